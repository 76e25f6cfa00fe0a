package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/internal/retry"
)

// SchemaVersion is the key layout this code reads and writes.
const SchemaVersion = 1

// Errors returned by this package.
var (
	// ErrSchemaTooNew means the keys were laid out by a newer lssd.
	ErrSchemaTooNew = errors.New("etcd key layout is newer than this lssd supports")
	// ErrTooManyConflicts means an Update kept losing races until its attempts ran
	// out; it is a store.ErrContention (nothing was written; retry).
	ErrTooManyConflicts = fmt.Errorf("etcd transaction kept conflicting with concurrent updates: %w", store.ErrContention)
)

// DefaultTimeout bounds an Update or View whose context has no deadline, so that a
// cluster that stops answering (lost quorum, partition) fails the request instead
// of hanging it.
const DefaultTimeout = 30 * time.Second

// Keepalive pings on the client's connections, so a member that silently went away
// is noticed and the client moves to another endpoint.
const (
	keepaliveTime    = 10 * time.Second
	keepaliveTimeout = 5 * time.Second
)

// maxAttempts bounds how often Update runs a transaction whose reads went stale
// before it could commit.
const maxAttempts = 30

// reconnect paces the client's attempts to reconnect to a member that went away:
// gRPC's default backoff grows to two minutes, so a cluster back after an outage
// of a few minutes would go unused for up to that long; this one retries at least
// every second.
var reconnect = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
	MinConnectTimeout: keepaliveTimeout,
}

// reconnectWait bounds how long a call waits for the client's next attempt to
// reconnect when the last ones failed: the longest pause between attempts, with
// its jitter, and time to connect.
const reconnectWait = 2 * time.Second

// maxSendBytes lets the client send whatever the cluster accepts: the cluster's
// --max-request-bytes is the limit that applies.
const maxSendBytes = 64 << 20

// Backend is a store.Backend over an etcd cluster. It is safe for concurrent use,
// and any number of Backends (in any number of processes) may share one cluster.
type Backend struct {
	cli     *clientv3.Client
	prefix  string
	where   string        // the endpoints, for errors
	timeout time.Duration // DefaultTimeout; shorter in tests

	// mu is held shared by running transactions, so Close can wait for them.
	mu     sync.RWMutex
	closed bool
}

var _ store.Backend = (*Backend)(nil)

// Open connects to the cluster at opts.Endpoints, checks within the dial
// timeout (and ctx) that it answers, and records or checks the key layout
// version.
func Open(ctx context.Context, opts Options) (*Backend, error) {
	cfg := opts.withDefaults()
	endpoints := cfg.Endpoints
	if len(endpoints) == 0 {
		return nil, errors.New("etcd: no endpoints given")
	}
	where := strings.Join(endpoints, ",")
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          cfg.DialTimeout,
		TLS:                  cfg.TLS,
		Username:             cfg.Username,
		Password:             cfg.Password,
		MaxCallSendMsgSize:   maxSendBytes,
		DialKeepAliveTime:    keepaliveTime,
		DialKeepAliveTimeout: keepaliveTimeout,
		DialOptions:          []grpc.DialOption{grpc.WithConnectParams(reconnect)},
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd: connecting to %s: %w", where, err)
	}
	probe, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if err := checkSchema(probe, cli, cfg.Prefix); err != nil {
		cli.Close()
		if errors.Is(err, ErrSchemaTooNew) {
			return nil, fmt.Errorf("etcd: cluster at %s: %w", where, err)
		}
		return nil, fmt.Errorf("etcd: cannot reach cluster at %s within %v: %w", where, cfg.DialTimeout, err)
	}
	return &Backend{cli: cli, prefix: cfg.Prefix, where: where, timeout: DefaultTimeout}, nil
}

// checkSchema writes the layout version into an empty store, or checks the one
// there. The compare-and-put makes two front-ends starting together agree.
func checkSchema(ctx context.Context, cli *clientv3.Client, prefix string) error {
	key := schemaKey(prefix)
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, strconv.Itoa(SchemaVersion))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil || resp.Succeeded {
		return err
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) != 1 {
		return fmt.Errorf("layout version key %q vanished", key)
	}
	return checkVersion(string(kvs[0].Value))
}

// checkVersion accepts the layout version stored in the cluster if this code can
// read it.
func checkVersion(stored string) error {
	v, err := strconv.Atoi(stored)
	if err != nil || v < 1 {
		return fmt.Errorf("%w: unreadable layout version %q", ErrSchemaTooNew, stored)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w: cluster has layout version %d, this lssd knows up to %d; upgrade lssd",
			ErrSchemaTooNew, v, SchemaVersion)
	}
	return nil
}

// Update implements store.Backend: fn's reads are taken at one revision and its
// writes committed by one etcd Txn guarded by those reads; when the guard fails
// (another update changed what fn read) fn runs again on fresh reads.
func (b *Backend) Update(parent context.Context, client []byte, fn func(store.Txn) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return store.ErrClosed
	}
	ctx, cancel := retry.Bounded(parent, b.timeout)
	defer cancel()
	if err := b.reachable(ctx); err != nil {
		return b.failure(parent, err)
	}
	l := newLayout(b.prefix, client)
	for attempt := 1; ; attempt++ {
		t := newTxn(ctx, b.cli, l)
		err := fn(t)
		if err == nil {
			err = t.commit()
		}
		if !retryable(err) {
			return b.failure(parent, err)
		}
		if attempt == maxAttempts {
			return fmt.Errorf("%w: %d attempts: %w", ErrTooManyConflicts, attempt, err)
		}
		if err := retry.Sleep(ctx, retry.Backoff(attempt)); err != nil {
			if perr := parent.Err(); perr != nil {
				// The caller's deadline, not the contention, ended the retries.
				return fmt.Errorf("%w (after %d attempts)", perr, attempt)
			}
			return fmt.Errorf("%w: %d attempts in %v: %w", ErrTooManyConflicts, attempt, b.timeout, err)
		}
	}
}

// View implements store.Backend: every read is at the revision of the first.
func (b *Backend) View(parent context.Context, client []byte, fn func(store.Reader) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return store.ErrClosed
	}
	ctx, cancel := retry.Bounded(parent, b.timeout)
	defer cancel()
	if err := b.reachable(ctx); err != nil {
		return b.failure(parent, err)
	}
	l := newLayout(b.prefix, client)
	for attempt := 1; ; attempt++ {
		err := fn(newTxn(ctx, b.cli, l))
		// A snapshot revision compacted away mid-read cannot be finished: start over.
		if !errors.Is(err, rpctypes.ErrCompacted) || attempt == maxAttempts {
			return b.failure(parent, err)
		}
	}
}

// reachable returns at once while the client has a connection to a member or is
// making one. While its last attempts to connect failed, it waits for the next
// attempt (reconnect paces them, at most about a second apart) and fails with
// store.ErrUnavailable if that fails too. The etcd client would otherwise hold
// every call until its deadline (it waits for a connection), so a cluster that
// is down would answer callers late and only with their own deadline.
func (b *Backend) reachable(ctx context.Context) error {
	conn := b.cli.ActiveConnection()
	state := conn.GetState()
	if state != connectivity.TransientFailure {
		return nil
	}
	wait, cancel := context.WithTimeout(ctx, reconnectWait)
	defer cancel()
	tried := false
	for state != connectivity.Ready {
		if state == connectivity.TransientFailure && tried {
			break
		}
		tried = tried || state == connectivity.Connecting
		if !conn.WaitForStateChange(wait, state) {
			if err := ctx.Err(); err != nil {
				return err
			}
			break
		}
		state = conn.GetState()
	}
	if state == connectivity.Ready {
		return nil
	}
	return fmt.Errorf("%w: etcd cluster at %s: no member reachable", store.ErrUnavailable, b.where)
}

// failure marks err with store.ErrUnavailable when it says the cluster could
// not serve (unreachable, no leader, a request timed out inside etcd: gRPC's
// UNAVAILABLE; too many requests pending), or did not answer within this package's default deadline
// (parent, the caller's context, still running). The caller's own cancellation
// or deadline stays what it is.
func (b *Backend) failure(parent context.Context, err error) error {
	switch {
	case err == nil || parent.Err() != nil:
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: etcd cluster at %s did not answer within %v: %v", store.ErrUnavailable, b.where, b.timeout, err)
	case unavailable(err) || errors.Is(err, rpctypes.ErrTooManyRequests):
		// A write may have been applied: etcd may time out a proposal that
		// later commits. Too many requests is etcd shedding load: the cluster
		// is overloaded, not the request too large (RESOURCE_EXHAUSTED in lssd).
		return fmt.Errorf("%w: etcd cluster at %s: %w", store.ErrUnavailable, b.where, err)
	}
	return err
}

// unavailable reports whether err carries gRPC's UNAVAILABLE, as etcd's own
// errors (rpctypes.EtcdError) and the transport's (status errors) do.
func unavailable(err error) bool {
	var coded interface{ Code() codes.Code }
	if errors.As(err, &coded) {
		return coded.Code() == codes.Unavailable
	}
	var withStatus interface{ GRPCStatus() *status.Status }
	return errors.As(err, &withStatus) && withStatus.GRPCStatus().Code() == codes.Unavailable
}

// Close implements store.Backend: it waits for running transactions, then closes
// the client.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	return b.cli.Close()
}

// errStale means an Update's guard failed: something it read changed before it
// could commit.
var errStale = errors.New("etcd: read keys changed before commit")

// retryable reports whether running the Update again may succeed.
func retryable(err error) bool {
	return errors.Is(err, errStale) || errors.Is(err, rpctypes.ErrCompacted)
}
