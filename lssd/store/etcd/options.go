package etcd

import (
	"crypto/tls"
	"time"
)

// DefaultPrefix is where the store's keys live unless Options.Prefix says
// otherwise.
const DefaultPrefix = "lss/"

// DefaultDialTimeout bounds connecting to the cluster at Open.
const DefaultDialTimeout = 5 * time.Second

// Options say which cluster a Backend opens and how to connect to it.
type Options struct {
	// Endpoints are the cluster's members: host:port or http(s):// URLs.
	Endpoints []string
	// Prefix keeps the store's keys under it, so that several stores (or other
	// applications) can share one cluster; DefaultPrefix if empty.
	Prefix string
	// DialTimeout bounds connecting to the cluster at Open; DefaultDialTimeout
	// if zero.
	DialTimeout time.Duration
	// TLS, if set, connects to the cluster over TLS.
	TLS *tls.Config
	// Username and Password, if set, authenticate to the cluster as an etcd
	// user (the client authenticates only with both).
	Username, Password string
}

// withDefaults fills in what opts leaves to the defaults.
func (opts Options) withDefaults() Options {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	return opts
}
