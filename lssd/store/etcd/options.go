package etcd

import (
	"crypto/tls"
	"time"
)

// DefaultPrefix is where the store's keys live unless WithPrefix says otherwise.
const DefaultPrefix = "lss/"

// DefaultDialTimeout bounds connecting to the cluster at Open.
const DefaultDialTimeout = 5 * time.Second

// Option configures Open.
type Option func(*config)

type config struct {
	prefix      string
	dialTimeout time.Duration
	tls         *tls.Config
	username    string
	password    string
}

// WithPrefix keeps the store's keys under prefix, so that several stores (or other
// applications) can share one cluster.
func WithPrefix(prefix string) Option { return func(c *config) { c.prefix = prefix } }

// WithDialTimeout bounds connecting to the cluster at Open.
func WithDialTimeout(d time.Duration) Option { return func(c *config) { c.dialTimeout = d } }

// WithTLS connects to the cluster over TLS.
func WithTLS(cfg *tls.Config) Option { return func(c *config) { c.tls = cfg } }

// WithAuth authenticates to the cluster as an etcd user.
func WithAuth(username, password string) Option {
	return func(c *config) { c.username, c.password = username, password }
}
