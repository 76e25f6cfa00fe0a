package provider

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// DefaultDialTimeout bounds Dial's first round trip (connect and Info) when
// Options.DialTimeout is zero.
const DefaultDialTimeout = 10 * time.Second

// DefaultMaxMessageSize is the largest reply accepted when
// Options.MaxMessageSize is zero. It is larger than gRPC's 4 MiB default because a
// Get of a wide prefix returns all of a signer's state in one message.
const DefaultMaxMessageSize = 64 << 20

// Options configure a Client.
type Options struct {
	// Addr is "host:port" or a URL: http://host:port (plaintext) or
	// https://host:port (TLS, with TLS or the system roots).
	Addr string
	// Name identifies the provider in errors; Addr if empty.
	Name string
	// ServerID is the pinned 33-byte server_id. Nil accepts whatever Info
	// returns, which is only safe when pinning it for the first time.
	ServerID []byte
	// TLS configures TLS; nil means plaintext (unless Addr is https://).
	TLS *tls.Config
	// ClientKey is the client's identity. Required.
	ClientKey *secp256k1.PrivateKey
	// HMACSecret is the 32-byte value-HMAC secret; nil means
	// wire.CLIHMACSecret(ClientKey), the secret lss-cli uses.
	HMACSecret []byte
	// Encrypt stores values in the Rust client's default format: the value HMAC
	// appended, then ChaCha20 (wire.EncryptValue).
	Encrypt bool
	// DialTimeout bounds Dial; DefaultDialTimeout if zero.
	DialTimeout time.Duration
	// MaxMessageSize is the largest reply accepted; DefaultMaxMessageSize if zero.
	MaxMessageSize int
	// RequireExtension refuses to fall back to the base Get when the server
	// answers BoundGet with Unimplemented (Get then fails with ErrNotSupported).
	// Set it for servers known to run the extension: otherwise a man in the
	// middle can answer Unimplemented and downgrade Get to the base protocol,
	// whose HMAC does not cover the prefix.
	RequireExtension bool
}

// target is where to connect and whether TLS is required by the address itself.
type target struct {
	hostPort string
	host     string
	https    bool
}

// parseAddr accepts "host:port", "http://host:port" and "https://host:port".
func parseAddr(addr string) (target, error) {
	if addr == "" {
		return target{}, fmt.Errorf("no address")
	}
	hostPort, https := addr, false
	if u, err := url.Parse(addr); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
			return target{}, fmt.Errorf("address %q: only scheme://host:port is supported", addr)
		}
		hostPort, https = u.Host, u.Scheme == "https"
		if u.Port() == "" {
			return target{}, fmt.Errorf("address %q has no port", addr)
		}
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return target{}, fmt.Errorf("address %q: want host:port or http(s)://host:port: %v", addr, err)
	}
	if host == "" || port == "" {
		return target{}, fmt.Errorf("address %q: want host:port", addr)
	}
	return target{hostPort: hostPort, host: host, https: https}, nil
}

// MaxReconnectDelay caps the wait between reconnection attempts to a server that
// went away, so a provider that comes back is used again within this time.
const MaxReconnectDelay = 2 * time.Second
