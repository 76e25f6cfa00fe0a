package lssd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// serverTLS builds the server's TLS configuration from file paths: nil when no
// certificate is given (plaintext). With an authority, every client must present a
// certificate signed by it (mutual TLS).
func serverTLS(certFile, keyFile, authorityFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "" && authorityFile == "":
		return nil, nil
	case certFile == "" || keyFile == "":
		return nil, errors.New("lssd: TLS needs both a certificate and a key")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("lssd: load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if authorityFile != "" {
		pem, err := os.ReadFile(authorityFile)
		if err != nil {
			return nil, fmt.Errorf("lssd: read TLS authority: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("lssd: TLS authority %s holds no PEM certificate", authorityFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
