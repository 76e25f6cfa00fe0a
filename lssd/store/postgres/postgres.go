package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
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

// Backend is a store.Backend over a PostgreSQL connection pool. It is safe for
// concurrent use, and any number of Backends (in any number of processes) may share
// one database.
type Backend struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
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
	return &Backend{pool: pool}, nil
}

// Update implements store.Backend: fn runs in one SERIALIZABLE transaction, run
// again from the start when PostgreSQL reports a serialization failure or deadlock.
func (b *Backend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	if b.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := retry.Bounded(ctx, DefaultTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, b.pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
			return fn(newTxn(ctx, tx, client))
		})
		if !retryable(err) {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("postgres: transaction failed to serialize %d times: %w", attempt, err)
		}
		if err := retry.Sleep(ctx, retry.Backoff(attempt)); err != nil {
			return err
		}
	}
}

// View implements store.Backend: fn runs in one REPEATABLE READ READ ONLY
// transaction, which reads one snapshot.
func (b *Backend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	if b.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := retry.Bounded(ctx, DefaultTimeout)
	defer cancel()
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	return pgx.BeginTxFunc(ctx, b.pool, opts, func(tx pgx.Tx) error {
		return fn(newTxn(ctx, tx, client))
	})
}

// Close implements store.Backend: it waits for running transactions to return
// their connections, then closes the pool.
func (b *Backend) Close() error {
	b.closed.Store(true)
	b.pool.Close()
	return nil
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
