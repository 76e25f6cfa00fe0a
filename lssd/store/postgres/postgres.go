package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/internal/retry"
)

// DefaultConnectTimeout bounds each connection attempt when the URL sets no
// connect_timeout, so an unreachable database fails startup instead of hanging.
const DefaultConnectTimeout = 10 * time.Second

// DefaultTimeout bounds an Update or View whose context has no deadline, so that a
// database that stops answering fails the request instead of hanging it.
const DefaultTimeout = 30 * time.Second

// maxAttempts bounds how often Update runs a transaction that keeps failing to
// serialize; under ctx, with a short randomized backoff between attempts.
const maxAttempts = 30

// maxReconnects bounds how often an Update or View runs again after losing its
// connection before it could commit: enough to get past the dead connections a
// pool may hold after the server restarted, few enough that a database that is
// down fails the call at once.
const maxReconnects = 3

// Backend is a store.Backend over a PostgreSQL connection pool. It is safe for
// concurrent use, and any number of Backends (in any number of processes) may share
// one database.
type Backend struct {
	pool    *pgxpool.Pool
	where   string        // host:port/database, for errors
	timeout time.Duration // DefaultTimeout; shorter in tests
	closed  atomic.Bool
}

var _ store.Backend = (*Backend)(nil)

// Options say which database a Backend opens.
type Options struct {
	// URL is the database: a postgres:// URL or a key=value string, as libpq
	// takes.
	URL string
}

// Open connects to the database at opts.URL, checks that it answers, and
// creates or migrates the tables, within ctx. Errors name the database's host
// and port, never its password.
func Open(ctx context.Context, opts Options) (*Backend, error) {
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		// pgconn's parse errors redact the password.
		return nil, fmt.Errorf("postgres: bad database URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	where := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	if cfg.ConnConfig.Database != "" {
		where += "/" + cfg.ConnConfig.Database
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting to %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach database at %s: %w", where, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: database at %s: %w", where, err)
	}
	return &Backend{pool: pool, where: where, timeout: DefaultTimeout}, nil
}

// Update implements store.Backend: fn runs in one SERIALIZABLE transaction, run
// again from the start when PostgreSQL reports a serialization failure or
// deadlock (at most maxAttempts times), or when the connection was lost before the
// transaction could commit (at most maxReconnects times: a pool holds connections
// the server dropped while it restarted, and each is found dead only when used).
func (b *Backend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.Serializable}
	return b.run(ctx, opts, func(t *txn) error { return fn(t) }, client)
}

// View implements store.Backend: fn runs in one REPEATABLE READ READ ONLY
// transaction, which reads one snapshot; again on a fresh connection if the
// connection was lost, like an Update.
func (b *Backend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	return b.run(ctx, opts, func(t *txn) error { return fn(t) }, client)
}

// run is the retry loop of Update and View, bounded in attempts and by ctx (or
// DefaultTimeout if ctx has no deadline).
func (b *Backend) run(parent context.Context, opts pgx.TxOptions, fn func(*txn) error, client []byte) error {
	if b.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := retry.Bounded(parent, b.timeout)
	defer cancel()
	lost := 0
	for attempt := 1; ; attempt++ {
		committing, err := b.attempt(ctx, opts, fn, client)
		switch {
		case err == nil:
			return nil
		case retryable(err) && (attempt >= maxAttempts || ctx.Err() != nil):
			return giveUp(parent, attempt, err)
		case ctx.Err() != nil:
			return b.failure(parent, err, committing)
		case retryable(err):
			// Lost a race with another transaction: run again on fresh reads.
		case connectionLost(err) && !committing && lost < maxReconnects:
			// Nothing was committed: safe to run again. The pool's other idle
			// connections are most likely to the same server and dead too (a
			// restart); drop them rather than find each dead by failing on it.
			lost++
			b.pool.Reset()
		default:
			return b.failure(parent, err, committing)
		}
		if serr := retry.Sleep(ctx, retry.Backoff(attempt)); serr != nil {
			if retryable(err) {
				return giveUp(parent, attempt, err)
			}
			return b.failure(parent, serr, false)
		}
	}
}

// giveUp is the error of an Update that failed to serialize attempts times: the
// caller's context's error if that ended the retries, else ErrContention.
func giveUp(parent context.Context, attempts int, err error) error {
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("%w (after %d attempts: %v)", perr, attempts, err)
	}
	return fmt.Errorf("%w: postgres: transaction failed to serialize %d times: %w", store.ErrContention, attempts, err)
}

// attempt runs fn in one transaction and commits it. committing reports that
// the error came from the COMMIT itself, whose outcome a lost connection leaves
// unknown; an error before it leaves nothing committed.
func (b *Backend) attempt(ctx context.Context, opts pgx.TxOptions, fn func(*txn) error, client []byte) (committing bool, err error) {
	tx, err := b.pool.BeginTx(ctx, opts)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(ctx) // a no-op after a failed commit
		}
	}()
	if err := fn(newTxn(ctx, tx, client)); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// failure marks err with store.ErrUnavailable when it says the database could
// not be reached, or did not answer within this package's default deadline
// (parent, the caller's context, still running). The caller's own cancellation
// or deadline stays what it is.
func (b *Backend) failure(parent context.Context, err error, committing bool) error {
	switch {
	case parent.Err() != nil:
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: postgres at %s did not answer within %v: %v", store.ErrUnavailable, b.where, b.timeout, err)
	case !connectionLost(err):
		return err
	case committing:
		return fmt.Errorf("%w: postgres at %s: connection lost while committing (the update may or may not "+
			"have been applied): %w", store.ErrUnavailable, b.where, err)
	}
	return fmt.Errorf("%w: postgres at %s: %w", store.ErrUnavailable, b.where, err)
}

// Close implements store.Backend: it waits for running transactions to return
// their connections, then closes the pool.
func (b *Backend) Close() error {
	b.closed.Store(true)
	b.pool.Close()
	return nil
}

// connectionLost reports whether err says the database could not be reached or
// dropped the connection: a failure to connect (other than one the server
// refused, such as bad credentials), a network error, or the server reporting
// a connection exception (class 08), its shutdown or start-up (57P01–57P03),
// or that it has no connection slot left (53300).
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || pgconn.SafeToRetry(err)
}

// retryable reports whether err means the transaction lost a race and may succeed
// if run again: serialization_failure (40001) or deadlock_detected (40P01).
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// nonNil turns nil into an empty slice: pgx sends a nil []byte as NULL, and every
// bytea column is NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nilIfEmpty stores an empty optional column as NULL, which reads back as nil.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
