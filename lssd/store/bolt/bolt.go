// Package bolt is the embedded store.Backend, one bbolt file on local disk: lssd's
// default database.
//
// Guarantees: Update returns only after its writes are fsynced (bolt commits with
// NoSync off); UpdateLazy (store.LazyUpdater, used by Store.Commit) returns before
// the fsync, with its writes visible to every later read and write, never
// durable after a later write, and kept across a crash of the process by a
// commit journal beside the file, Path + ".commits" (lazy.go, journal.go); View reads one consistent snapshot; clients are kept in separate
// buckets, so no read or scan crosses from one client into another. Only one process
// may open a file: a second one gets ErrLocked after Options.LockTimeout instead of
// waiting forever. A file written with another layout is refused with
// ErrUnknownSchema.
//
// Concurrent Updates share one bolt write transaction and one fsync (group commit):
// fsync dominates the cost of a small write, so this multiplies the throughput of
// many writers, while a lone writer still commits at once, without waiting for
// company. Each Update stays all-or-nothing on its own: if its function fails after
// writing, the shared transaction is rolled back and committed again without it.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

// DefaultLockTimeout is how long Open waits for another process to release the file.
const DefaultLockTimeout = 2 * time.Second

// Errors returned by Open and by a closed Backend.
var (
	// ErrLocked is returned by Open when another process holds the file.
	ErrLocked = errors.New("database is locked by another lssd?")
)

// Options say which file a Backend opens and tune it.
type Options struct {
	// Path is the bolt file, created if missing (its directory must exist).
	Path string
	// NoGroupCommit runs every Update in its own write transaction with its own
	// fsync, to measure what group commit gains.
	NoGroupCommit bool
	// LockTimeout bounds the wait for the file lock; DefaultLockTimeout if zero.
	LockTimeout time.Duration
	// OnCommit, if set, is called after every bolt write transaction that
	// committed, with the number of Updates it carried and how long the commit
	// (the Updates' functions and the fsync) took, for metrics. It must be quick:
	// the next batch waits for it.
	OnCommit func(updates int, took time.Duration)
}

// Backend is a store.Backend on one bolt file. It is safe for concurrent use.
type Backend struct {
	db   *bbolt.DB
	opts Options

	mu      sync.Mutex
	queue   []*call // Updates waiting for the next batch
	leading bool    // a batch is being committed; its leader hands over to queue[0]
	closed  bool

	// running counts Updates and Views in progress, for Close to wait on.
	running   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	// commits counts bolt write transactions committed, for tests of batching.
	commits atomic.Int64

	// arrived is poked when a call is queued behind a batch in progress, for a
	// batch held open for company (commitTogether); closing is closed by Close,
	// which ends such a hold; hold is its longest wait (lazyHold).
	arrived chan struct{}
	closing chan struct{}
	hold    time.Duration
	// beforeCommit, if set (by tests), runs in a batch's bolt transaction after
	// its functions, once its lazy calls are published and released, just before
	// bolt commits it. An error from it fails the commit as a failed bolt commit
	// would: the transaction is rolled back and the batch's calls not released
	// yet get the error. A lone non-lazy call (commitAlone) does not run it.
	beforeCommit func() error
	// betweenOverlayAndFile, if set (by tests), runs in a View after it took
	// the overlay's write sets and before it opens its bolt read transaction.
	betweenOverlayAndFile func()

	// overlay serves the lazy writes whose batch is not committed yet (lazy.go),
	// and journal keeps them across a crash of the process (journal.go).
	overlay overlay
	journal *journal
}

var (
	_ store.Backend     = (*Backend)(nil)
	_ store.LazyUpdater = (*Backend)(nil)
)

// Open opens (creating if needed) the bolt file at opts.Path. It waits for
// another process to release the file for at most opts.LockTimeout, and never
// past ctx's deadline.
func Open(ctx context.Context, opts Options) (*Backend, error) {
	path := opts.Path
	if path == "" {
		return nil, errors.New("store/bolt: open: no file (Options.Path)")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	wait := opts.LockTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = max(time.Until(d), time.Millisecond) // bbolt waits forever on 0
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: wait,
		// The free list is rebuilt from the file on open instead of being written
		// on every commit: less to write per commit, same durability.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("store/bolt: open %s: %w (file lock not acquired within %v)", path, ErrLocked, wait)
	}
	if err != nil {
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	if err := db.Update(initSchema); err != nil {
		return nil, errors.Join(fmt.Errorf("store/bolt: open %s: %w", path, err), db.Close())
	}
	j, err := openJournal(db, path)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store/bolt: open %s: %w", path, err), db.Close())
	}
	return &Backend{db: db, opts: opts, journal: j, arrived: make(chan struct{}, 1), closing: make(chan struct{}), hold: lazyHold}, nil
}

// begin checks what every Update, UpdateLazy and View checks before it runs,
// and counts the call as running (b.running.Done ends it): ctx not done, a
// valid client, the backend not closed.
func (b *Backend) begin(ctx context.Context, client []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkClient(client); err != nil {
		return err
	}
	if !b.enter() {
		return store.ErrClosed
	}
	return nil
}

// Update implements store.Backend. With group commit, fn may run in another
// caller's goroutine, inside a bolt transaction shared with other Updates: it sees
// the writes of the Updates committed before it in the same batch, which keeps the
// batch serializable. If ctx is done before fn's batch starts, fn is not run and
// ctx.Err() is returned.
func (b *Backend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	if err := b.begin(ctx, client); err != nil {
		return err
	}
	defer b.running.Done()
	c := &call{ctx: ctx, client: client, fn: fn}
	if b.opts.NoGroupCommit {
		b.commitAlone(c)
		return c.err
	}
	return b.groupCommit(c)
}

// View implements store.Backend.
func (b *Backend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	if err := b.begin(ctx, client); err != nil {
		return err
	}
	defer b.running.Done()
	// The overlay before the file: a lazy write missing from this snapshot of the
	// overlay is in the file by the time the read transaction starts. A write set
	// whose batch the file already holds is left out: the file has its writes,
	// and the writes of that batch made after them, which the overlay's would
	// hide where its merge cannot order them (a record rewritten in place).
	sets := b.overlay.sets(client)
	if b.betweenOverlayAndFile != nil {
		b.betweenOverlayAndFile()
	}
	return b.db.View(func(tx *bbolt.Tx) error {
		var r store.Reader = newTxn(tx, client)
		if sets = notInFile(sets, tx); len(sets) > 0 {
			r = &lazyReader{Reader: r, sets: sets}
		}
		return fn(r)
	})
}

// Close implements store.Backend: it refuses new calls, waits for running ones
// (queued Updates are still committed) and closes the file. Calling it again
// returns the first call's result.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		if b.closing != nil {
			close(b.closing)
		}
		b.running.Wait()
		err := b.db.Close()
		b.closeErr = errors.Join(err, b.journal.close(err))
	})
	return b.closeErr
}

// enter registers a call unless the backend is closed.
func (b *Backend) enter() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.running.Add(1)
	return true
}
