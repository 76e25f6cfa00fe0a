package lssd

import (
	"crypto/tls"
	"fmt"

	"github.com/lssquorum/lss/internal/tlsfiles"
)

// serverTLS builds the server's TLS configuration from file paths: nil when no
// certificate is given (plaintext). With an authority, every client must present a
// certificate signed by it (mutual TLS).
func serverTLS(certFile, keyFile, authorityFile string) (*tls.Config, error) {
	cfg, err := tlsfiles.Server(tlsfiles.Files{CA: authorityFile, Cert: certFile, Key: keyFile})
	if err != nil {
		return nil, fmt.Errorf("lssd: %w", err)
	}
	return cfg, nil
}
