// Package endpoint parses the addresses users give for an LSS server, the one way
// every command and client reads them: "host:port", "http://host:port" or
// "https://host:port" (TLS).
package endpoint

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Endpoint is a parsed server address.
type Endpoint struct {
	// HostPort is what to dial.
	HostPort string
	// Host is the host part, the name a TLS client verifies by default.
	Host string
	// Port is the port number.
	Port int
	// TLS is set for https:// addresses.
	TLS bool
}

// Parse reads "host:port", "http://host:port" or "https://host:port". The error
// names the address and what is wrong with it.
func Parse(addr string) (Endpoint, error) {
	if addr == "" {
		return Endpoint{}, fmt.Errorf("no address (want host:port, http://host:port or https://host:port)")
	}
	hostPort, tls := addr, false
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return Endpoint{}, fmt.Errorf("address %q: %v", addr, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return Endpoint{}, fmt.Errorf("address %q: scheme %q: want http or https", addr, u.Scheme)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
			return Endpoint{}, fmt.Errorf("address %q: only scheme://host:port is supported", addr)
		}
		hostPort, tls = u.Host, u.Scheme == "https"
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return Endpoint{}, fmt.Errorf("address %q: want host:port, http://host:port or https://host:port: %v", addr, err)
	}
	if host == "" {
		return Endpoint{}, fmt.Errorf("address %q has no host", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return Endpoint{}, fmt.Errorf("address %q: port must be a number in 1..65535", addr)
	}
	return Endpoint{HostPort: hostPort, Host: host, Port: n, TLS: tls}, nil
}
