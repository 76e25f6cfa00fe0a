package lssdcli

import (
	"github.com/lssquorum/lss/lssd"
	"github.com/spf13/pflag"
)

// addLimitFlags adds the flags of the connection, call and new-client limits and of
// the key file check to f, filling o.
func addLimitFlags(f *pflag.FlagSet, o *lssd.Options) {
	l := &o.Limits
	f.IntVar(&l.MaxReplySize, "max-reply-size", l.MaxReplySize,
		"largest Get, BoundGet or Status reply, in bytes; a larger unpaged read is refused, a page ends before it")
	f.IntVar(&l.MaxPageItems, "max-page-items", l.MaxPageItems,
		"most key-values or transaction records in one page of a paged BoundGet or Status")
	f.IntVar(&l.MaxPageSize, "max-page-size", l.MaxPageSize,
		"bytes one page of a paged BoundGet or Status ends before (at least one entry; at most --max-reply-size)")
	f.IntVar(&l.MaxConnections, "max-connections", l.MaxConnections, "most open client connections; more are closed at once")
	f.IntVar(&l.MaxConcurrentStreams, "max-concurrent-streams", l.MaxConcurrentStreams, "most calls in progress on one connection")
	f.Int64Var(&l.MaxInflightBytes, "max-inflight-bytes", l.MaxInflightBytes,
		"request bytes held at once across all calls; each call reserves --max-message-size")
	f.DurationVar(&l.HandshakeTimeout, "handshake-timeout", l.HandshakeTimeout, "time a new connection has to finish its TLS and HTTP/2 handshakes")
	f.DurationVar(&l.IdleTimeout, "idle-timeout", l.IdleTimeout, "close a connection without calls for this long")
	f.Float64Var(&l.NewClientsPerSecond, "new-clients-per-second", l.NewClientsPerSecond,
		"requests per second, per peer address, with a client_id not recently authenticated (each costs an ECDH)")
	f.IntVar(&l.NewClientsBurst, "new-clients-burst", l.NewClientsBurst, "burst allowed over --new-clients-per-second")
	f.Int64Var(&o.Quota.MaxKeys, "max-keys-per-client", o.Quota.MaxKeys,
		"most keys one client may store, counting keys its prepared transactions would create (0: unlimited)")
	f.Int64Var(&o.Quota.MaxBytes, "max-bytes-per-client", o.Quota.MaxBytes,
		"most bytes (sum of key and value lengths) one client may store, counting its prepared writes (0: unlimited)")
	f.Int64Var(&o.Quota.MaxPending, "max-pending-per-client", o.Quota.MaxPending,
		"most prepared, undecided transactions one client may hold (0: unlimited)")
	f.BoolVar(&o.AllowInsecureKeyFile, "allow-insecure-key-file", false,
		"start even if the server key file is accessible to group or others (logs a warning)")
}
