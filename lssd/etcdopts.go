package lssd

import (
	"errors"
	"fmt"

	"github.com/lssquorum/lss/internal/tlsfiles"
	"github.com/lssquorum/lss/lssd/store/etcd"
)

// etcdOptions turns the etcd connection settings of opts into the backend's
// options, loading the TLS files so that a bad one is a startup error naming it.
func etcdOptions(opts Options) (etcd.Options, error) {
	out := etcd.Options{Endpoints: opts.EtcdEndpoints, DialTimeout: opts.EtcdDialTimeout, Prefix: opts.EtcdPrefix}
	if files := (tlsfiles.Files{CA: opts.EtcdCA, Cert: opts.EtcdCert, Key: opts.EtcdKey}); !files.IsZero() {
		cfg, err := tlsfiles.Client(files, "")
		if err != nil {
			return etcd.Options{}, fmt.Errorf("lssd: etcd CA or client certificate (--etcd-ca, --etcd-cert, --etcd-key): %w", err)
		}
		out.TLS = cfg
	}
	switch {
	case opts.EtcdUsername != "" && opts.EtcdPassword != "":
		out.Username, out.Password = opts.EtcdUsername, opts.EtcdPassword
	case opts.EtcdUsername != "":
		// The etcd client authenticates only with both, so a lone username would
		// silently connect unauthenticated.
		return etcd.Options{}, fmt.Errorf("lssd: etcd user %q needs a password (LSSD_ETCD_PASSWORD)", opts.EtcdUsername)
	case opts.EtcdPassword != "":
		return etcd.Options{}, errors.New("lssd: an etcd password needs a username (--etcd-username)")
	}
	return out, nil
}
