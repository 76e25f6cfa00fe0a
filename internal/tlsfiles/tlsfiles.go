// Package tlsfiles builds TLS configurations from PEM files, the one way every
// command and server of the project loads them: a missing or unreadable file is an
// error naming it, a CA file without a certificate is refused, and a certificate
// without its key (or the reverse) is refused before anything is dialled.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// MinVersion is the oldest TLS version the project speaks or accepts.
const MinVersion = tls.VersionTLS12

// ErrHalfPair is returned when only one of a certificate and its key is given.
var ErrHalfPair = errors.New("TLS needs both a certificate and a key (or neither)")

// Files names the PEM files of one TLS endpoint. Empty fields are not used.
type Files struct {
	// CA is the authority that signs the peer's certificate: for a client, the
	// server's (empty: the system roots); for a server, the clients' (set: mutual
	// TLS, every client must present a certificate it signed).
	CA string
	// Cert and Key are this side's certificate and private key.
	Cert, Key string
}

// IsZero reports whether no file is named.
func (f Files) IsZero() bool { return f.CA == "" && f.Cert == "" && f.Key == "" }

// Server returns the TLS configuration of a server: nil when no file is named
// (plaintext). A server needs a certificate and key; with a CA it requires and
// verifies client certificates.
func Server(f Files) (*tls.Config, error) {
	if f.IsZero() {
		return nil, nil
	}
	if f.Cert == "" || f.Key == "" {
		return nil, fmt.Errorf("server TLS: %w", ErrHalfPair)
	}
	cfg := &tls.Config{MinVersion: MinVersion}
	if err := loadPair(cfg, f); err != nil {
		return nil, err
	}
	if f.CA != "" {
		pool, err := LoadPool(f.CA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Client returns the TLS configuration of a client that verifies the server as
// serverName (empty: the dialled host, which gRPC fills in). The CA replaces the
// system roots; a certificate and key are presented for mutual TLS.
func Client(f Files, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: MinVersion, ServerName: serverName}
	if f.CA != "" {
		pool, err := LoadPool(f.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if f.Cert != "" || f.Key != "" {
		if err := loadPair(cfg, f); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// LoadPool reads a PEM file of certificate authorities.
func LoadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("TLS authority: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS authority %s holds no PEM certificate", path)
	}
	return pool, nil
}

func loadPair(cfg *tls.Config, f Files) error {
	if f.Cert == "" || f.Key == "" {
		return fmt.Errorf("client TLS: %w", ErrHalfPair)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", f.Cert, f.Key, err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return nil
}
