package qconfig

import (
	"crypto/tls"
	"fmt"

	"github.com/lssquorum/lss/internal/endpoint"
	"github.com/lssquorum/lss/internal/tlsfiles"
)

// TLSConfig builds the TLS settings of provider p, or returns nil for a plaintext
// connection. The server name verified is tls.server_name, else the host of Addr.
// Errors name the provider and the file.
func (c *Config) TLSConfig(p Provider) (*tls.Config, error) {
	if p.TLS == nil {
		return nil, nil
	}
	name := p.TLS.ServerName
	if name == "" {
		if ep, err := endpoint.Parse(p.Addr); err == nil {
			name = ep.Host
		}
	}
	files := tlsfiles.Files{CA: c.Resolve(p.TLS.CA), Cert: c.Resolve(p.TLS.Cert), Key: c.Resolve(p.TLS.Key)}
	tc, err := tlsfiles.Client(files, name)
	if err != nil {
		return nil, fmt.Errorf("provider %q: tls: %w", p.Name, err)
	}
	return tc, nil
}
