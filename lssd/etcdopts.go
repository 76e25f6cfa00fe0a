package lssd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/lssquorum/lss/lssd/store/etcd"
)

// etcdOptions turns the etcd connection settings of opts into the backend's
// options, loading the TLS files so that a bad one is a startup error naming it.
func etcdOptions(opts Options) ([]etcd.Option, error) {
	var out []etcd.Option
	if opts.EtcdPrefix != "" {
		out = append(out, etcd.WithPrefix(opts.EtcdPrefix))
	}
	cfg, err := etcdTLS(opts.EtcdCA, opts.EtcdCert, opts.EtcdKey)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		out = append(out, etcd.WithTLS(cfg))
	}
	switch {
	case opts.EtcdUsername != "" && opts.EtcdPassword != "":
		out = append(out, etcd.WithAuth(opts.EtcdUsername, opts.EtcdPassword))
	case opts.EtcdUsername != "":
		// The etcd client authenticates only with both, so a lone username would
		// silently connect unauthenticated.
		return nil, fmt.Errorf("lssd: etcd user %q needs a password (LSSD_ETCD_PASSWORD)", opts.EtcdUsername)
	case opts.EtcdPassword != "":
		return nil, errors.New("lssd: an etcd password needs a username (--etcd-username)")
	}
	return out, nil
}

// etcdTLS builds the client TLS configuration for the etcd cluster: nil when no
// file is given (plaintext). The authority, if given, replaces the system roots;
// a certificate and key are presented for mutual TLS.
func etcdTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("lssd: read etcd CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("lssd: etcd CA file %s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("lssd: load etcd client certificate %s and key %s: %w", certFile, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case certFile != "" || keyFile != "":
		return nil, errors.New("lssd: etcd mutual TLS needs both a client certificate (--etcd-cert) and its key (--etcd-key)")
	}
	return cfg, nil
}
