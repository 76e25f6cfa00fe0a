package qconfig

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
)

// TLSConfig builds the TLS settings of provider p, or returns nil for a plaintext
// connection. Errors name the provider and the file.
func (c *Config) TLSConfig(p Provider) (*tls.Config, error) {
	if p.TLS == nil {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: p.TLS.ServerName}
	if tc.ServerName == "" {
		if host, _, err := net.SplitHostPort(p.Addr); err == nil {
			tc.ServerName = host
		}
	}
	if p.TLS.CA != "" {
		path := c.Resolve(p.TLS.CA)
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("provider %q: tls.ca: %w", p.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("provider %q: tls.ca: %s holds no PEM certificate", p.Name, path)
		}
		tc.RootCAs = pool
	}
	if p.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(c.Resolve(p.TLS.Cert), c.Resolve(p.TLS.Key))
		if err != nil {
			return nil, fmt.Errorf("provider %q: tls.cert/tls.key: %w", p.Name, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
