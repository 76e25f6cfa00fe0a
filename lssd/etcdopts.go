package lssd

import (
	"errors"
	"fmt"

	"github.com/lssquorum/lss/internal/tlsfiles"
	"github.com/lssquorum/lss/lssd/store/etcd"
)

// etcdOptions turns the etcd connection settings of opts into the backend's
// options, loading the TLS files so that a bad one is a startup error naming it.
func etcdOptions(opts Options) ([]etcd.Option, error) {
	var out []etcd.Option
	if opts.EtcdDialTimeout > 0 {
		out = append(out, etcd.WithDialTimeout(opts.EtcdDialTimeout))
	}
	if opts.EtcdPrefix != "" {
		out = append(out, etcd.WithPrefix(opts.EtcdPrefix))
	}
	if files := (tlsfiles.Files{CA: opts.EtcdCA, Cert: opts.EtcdCert, Key: opts.EtcdKey}); !files.IsZero() {
		cfg, err := tlsfiles.Client(files, "")
		if err != nil {
			return nil, fmt.Errorf("lssd: etcd CA or client certificate (--etcd-ca, --etcd-cert, --etcd-key): %w", err)
		}
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
