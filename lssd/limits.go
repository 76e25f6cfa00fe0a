package lssd

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// Limits bound what one request may carry, and what the server gives to
// connections, concurrent calls and new clients. A zero field takes its default;
// docs/design.md ("Resource limits") says how they combine into a memory bound.
type Limits struct {
	// MaxKeysPerPut bounds the key-values of one Put, Restore or Prepare.
	MaxKeysPerPut int
	// MaxKeyLength bounds a key, in bytes.
	MaxKeyLength int
	// MaxValueSize bounds a stored value (value HMAC included), in bytes.
	MaxValueSize int
	// MaxMessageSize bounds a whole request message, in bytes. gRPC enforces it
	// before the request is decoded, answering RESOURCE_EXHAUSTED.
	MaxMessageSize int

	// MaxReplySize bounds the key-values (Get, BoundGet) or transaction records
	// (Status) one reply may carry, in bytes of keys, values, txids, proofs and
	// seals. A read over it is refused with RESOURCE_EXHAUSTED rather than
	// answered in part: a client reads a large namespace by narrower prefixes.
	// The default stays under the clients' 64 MiB receive limit, so a client
	// always gets this clear error rather than a transport one. A read stops as
	// soon as it passes this size, so a refused read holds no more than it.
	// Paged reads (BoundGet and Status with page_limit) end a page before it.
	MaxReplySize int
	// MaxPageItems caps the entries (key-values or transaction records) of one
	// page of a paged BoundGet or Status, whatever page_limit the client asks.
	MaxPageItems int
	// MaxPageSize ends a page of a paged BoundGet or Status before its entries
	// pass this many bytes (counted as for MaxReplySize; a page holds at least
	// one entry). Smaller than MaxReplySize, so that concurrent paged reads of
	// large namespaces hold little memory each; capped by MaxReplySize.
	MaxPageSize int

	// MaxConnections bounds the open client connections; one more is closed as
	// soon as it is accepted.
	MaxConnections int
	// MaxConcurrentStreams bounds the calls in progress on one connection (HTTP/2
	// MAX_CONCURRENT_STREAMS); a client queues calls beyond it.
	MaxConcurrentStreams int
	// MaxInflightBytes bounds the request bytes the server holds at once, across
	// every connection. Each call reserves MaxMessageSize (its size is not known
	// before it is read) from this budget before its request is read, and waits
	// while the budget is spent; so at most MaxInflightBytes / MaxMessageSize
	// requests are being read at a time. Once decoded, a call keeps twice its
	// request's size (at most MaxMessageSize) reserved until it ends.
	MaxInflightBytes int64
	// HandshakeTimeout bounds how long a new connection may take to complete its
	// TLS and HTTP/2 handshakes; a connection that sends nothing is closed then.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that has had no call in progress for this
	// long (a client reconnects transparently when it next calls).
	IdleTimeout time.Duration
	// NewClientsPerSecond and NewClientsBurst bound, per peer address (IPv6: per
	// /64), the requests per second whose client_id the server has not
	// authenticated recently: each costs an ECDH.
	NewClientsPerSecond float64
	NewClientsBurst     int
}

// Default limits: generous for a signer's state, small enough that one request
// cannot exhaust the server.
const (
	DefaultMaxKeysPerPut  = 1000
	DefaultMaxKeyLength   = 1024
	DefaultMaxValueSize   = 1 << 20
	DefaultMaxMessageSize = 16 << 20

	DefaultMaxReplySize = 32 << 20
	DefaultMaxPageItems = 1000
	DefaultMaxPageSize  = 4 << 20

	DefaultMaxConnections       = 512
	DefaultMaxConcurrentStreams = 16
	DefaultMaxInflightBytes     = 128 << 20
	DefaultHandshakeTimeout     = 10 * time.Second
	DefaultIdleTimeout          = 5 * time.Minute
	DefaultNewClientsPerSecond  = 20
	DefaultNewClientsBurst      = 100
)

// streamWindow is the HTTP/2 flow-control window of each call. Fixing it (rather
// than letting gRPC grow it with the bandwidth-delay product, up to 16 MiB) bounds
// what a call waiting for the in-flight budget can make the server buffer.
const streamWindow = 64 << 10

// keepaliveMinTime is the shortest interval between a client's keepalive pings
// the server tolerates; a client pinging more often is disconnected.
const keepaliveMinTime = 10 * time.Second

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxKeysPerPut:  DefaultMaxKeysPerPut,
		MaxKeyLength:   DefaultMaxKeyLength,
		MaxValueSize:   DefaultMaxValueSize,
		MaxMessageSize: DefaultMaxMessageSize,

		MaxReplySize: DefaultMaxReplySize,
		MaxPageItems: DefaultMaxPageItems,
		MaxPageSize:  DefaultMaxPageSize,

		MaxConnections:       DefaultMaxConnections,
		MaxConcurrentStreams: DefaultMaxConcurrentStreams,
		MaxInflightBytes:     DefaultMaxInflightBytes,
		HandshakeTimeout:     DefaultHandshakeTimeout,
		IdleTimeout:          DefaultIdleTimeout,
		NewClientsPerSecond:  DefaultNewClientsPerSecond,
		NewClientsBurst:      DefaultNewClientsBurst,
	}
}

// withDefaults fills zero fields with their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxKeysPerPut == 0 {
		l.MaxKeysPerPut = d.MaxKeysPerPut
	}
	if l.MaxKeyLength == 0 {
		l.MaxKeyLength = d.MaxKeyLength
	}
	if l.MaxValueSize == 0 {
		l.MaxValueSize = d.MaxValueSize
	}
	if l.MaxMessageSize == 0 {
		l.MaxMessageSize = d.MaxMessageSize
	}
	if l.MaxReplySize == 0 {
		l.MaxReplySize = d.MaxReplySize
	}
	if l.MaxPageItems == 0 {
		l.MaxPageItems = d.MaxPageItems
	}
	if l.MaxPageSize == 0 {
		l.MaxPageSize = d.MaxPageSize
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = d.MaxConnections
	}
	if l.MaxConcurrentStreams == 0 {
		l.MaxConcurrentStreams = d.MaxConcurrentStreams
	}
	if l.MaxInflightBytes == 0 {
		l.MaxInflightBytes = d.MaxInflightBytes
	}
	if l.HandshakeTimeout == 0 {
		l.HandshakeTimeout = d.HandshakeTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.NewClientsPerSecond == 0 {
		l.NewClientsPerSecond = d.NewClientsPerSecond
	}
	if l.NewClientsBurst == 0 {
		l.NewClientsBurst = d.NewClientsBurst
	}
	return l
}

// validate refuses negative limits, which would refuse every request, and an
// in-flight budget smaller than one request, which could never be met.
func (l Limits) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"max keys per put", float64(l.MaxKeysPerPut)},
		{"max key length", float64(l.MaxKeyLength)},
		{"max value size", float64(l.MaxValueSize)},
		{"max message size", float64(l.MaxMessageSize)},
		{"max reply size", float64(l.MaxReplySize)},
		{"max page items", float64(l.MaxPageItems)},
		{"max page size", float64(l.MaxPageSize)},
		{"max connections", float64(l.MaxConnections)},
		{"max concurrent streams", float64(l.MaxConcurrentStreams)},
		{"max in-flight bytes", float64(l.MaxInflightBytes)},
		{"handshake timeout", float64(l.HandshakeTimeout)},
		{"idle timeout", float64(l.IdleTimeout)},
		{"new clients per second", l.NewClientsPerSecond},
		{"new clients burst", float64(l.NewClientsBurst)},
	} {
		if f.v < 0 {
			return fmt.Errorf("lssd: %s is %v, must not be negative", f.name, f.v)
		}
	}
	if d := l.withDefaults(); d.MaxInflightBytes < int64(d.MaxMessageSize) {
		return fmt.Errorf("lssd: max in-flight bytes %d is below the max message size %d: no request could be read",
			d.MaxInflightBytes, d.MaxMessageSize)
	}
	return nil
}

// checkKVs returns an INVALID_ARGUMENT status naming the first limit kvs exceed.
func (l Limits) checkKVs(kvs []*lsspb.KeyValue) error {
	if len(kvs) > l.MaxKeysPerPut {
		return status.Errorf(codes.InvalidArgument,
			"request has %d keys, over the limit of %d keys per request (max keys per put)", len(kvs), l.MaxKeysPerPut)
	}
	for _, kv := range kvs {
		// MaxInt64 has no successor: a Put after it would wrap to a negative
		// version. A negative version is left to the version rule, which reports
		// it as a conflict, as the base protocol says (PROTOCOL.md, Put step 6)
		// and the Rust server does; Restore refuses it (store.checkRestoreVersions).
		if v := kv.GetVersion(); v == math.MaxInt64 {
			return status.Errorf(codes.InvalidArgument,
				"key %q has version %d, which has no successor; the highest version is %d", kv.GetKey(), v, int64(math.MaxInt64-1))
		}
		if !utf8.ValidString(kv.GetKey()) {
			// The decoder refuses such a key; this keeps keys the server reserves
			// for itself (extOnlyKey) out of reach of any caller of the handlers.
			return status.Errorf(codes.InvalidArgument, "key %q is not UTF-8", kv.GetKey())
		}
		if n := len(kv.GetKey()); n > l.MaxKeyLength {
			return status.Errorf(codes.InvalidArgument,
				"key %.32q... is %d bytes, over the max key length of %d bytes", kv.GetKey(), n, l.MaxKeyLength)
		}
		if n := len(kv.GetValue()); n > l.MaxValueSize {
			return status.Errorf(codes.InvalidArgument,
				"value of key %q is %d bytes, over the max value size of %d bytes", kv.GetKey(), n, l.MaxValueSize)
		}
	}
	return nil
}

// serverLimitOptions are the gRPC server options that enforce l's connection and
// call limits (the connection count is enforced by the listener, see
// limitListener), and the interceptor that belongs to the in-flight bound,
// which must run once the request is decoded.
func serverLimitOptions(l Limits) ([]grpc.ServerOption, grpc.UnaryServerInterceptor) {
	in := newInflight(l.MaxInflightBytes, l.MaxMessageSize)
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(l.MaxMessageSize),
		grpc.MaxConcurrentStreams(uint32(l.MaxConcurrentStreams)),
		grpc.StatsHandler(in),
		grpc.InitialWindowSize(streamWindow),
		grpc.ConnectionTimeout(l.HandshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: l.IdleTimeout,
			// Ping a connection silent this long, and drop it if the ping is not
			// answered: a vanished client's connection does not hold a slot.
			Time:    time.Minute,
			Timeout: 20 * time.Second,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime, PermitWithoutStream: true}),
	}, in.interceptor()
}

// pageItems is the number of entries a page asked to hold at most limit (> 0)
// may hold: limit, capped by the server's max page items.
func (l Limits) pageItems(limit int32) int {
	return min(int(limit), l.MaxPageItems)
}

// pageSize is the byte size a page ends before: the max page size, capped by
// the max reply size.
func (l Limits) pageSize() int {
	return min(l.MaxPageSize, l.MaxReplySize)
}
