// Package pebble is an embedded store.Backend on a Pebble database (the LSM storage
// engine of CockroachDB) in one directory on local disk.
//
// Guarantees: Update returns only after its writes are fsynced (a pebble.Sync
// batch); UpdateLazy (store.LazyUpdater, used by Store.Commit) returns once its
// writes are in the write-ahead log's writer, without waiting for an fsync, and a
// later synced update makes them durable too, since both go through the one
// write-ahead log in order; View reads one consistent state of the client's
// namespace; clients live under disjoint key prefixes, so no read or scan crosses
// from one client into another. Only one process may open a directory: a second
// one gets ErrLocked. A directory written with another layout is refused with
// ErrUnknownSchema.
//
// Serializability. Pebble has no read-write transactions, only batches. Every
// store.Backend transaction is scoped to one client's namespace, so it is enough
// to serialize the transactions of each client: an Update holds its client's lock
// while it reads (through an indexed batch, which overlays its own writes on the
// database) and until its batch is committed, and a View holds the same lock
// shared. Transactions of different clients never touch the same keys and run in
// parallel; Pebble's commit pipeline then writes their batches to the log in
// order and covers the concurrent synced ones with one fsync (group commit without
// a queue of our own). An optimistic scheme (read sets checked at commit) would
// let one client's transactions overlap, but they conflict on the same few keys
// almost always (a signer writes its keys at the next version), so it would only
// add retries.
//
// Because a View waits for the Updates of its client to be synced, a read never
// returns a write that a machine crash could still take back, except a lazy
// commit's, which by design (see store.LazyUpdater) only decides what the durable
// prepares already decided.
package pebble

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lssquorum/lss/lssd/store"
)

// Errors returned by Open and by a closed Backend.
var (
	// ErrLocked is returned by Open when another process (or another Backend in
	// this one) has the directory open.
	ErrLocked = errors.New("database is locked by another lssd?")
)

// DefaultLockTimeout is how long Open waits for another process to release the
// directory.
const DefaultLockTimeout = 2 * time.Second

// Options say which directory a Backend opens and tune it.
type Options struct {
	// Dir is the database's directory, created if missing.
	Dir string
	// LockTimeout bounds the wait for the directory's lock; DefaultLockTimeout if
	// zero.
	LockTimeout time.Duration
	// FS is the file system the database lives on; the operating system's if nil.
	// Tests use a crashable in-memory one to check what survives a crash.
	FS vfs.FS
}

// Backend is a store.Backend and store.LazyUpdater on one Pebble database. It is
// safe for concurrent use.
type Backend struct {
	db    *pebbledb.DB
	locks clientLocks

	mu     sync.Mutex
	closed bool
	// running counts transactions in progress, for Close to wait on.
	running   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Backend     = (*Backend)(nil)
	_ store.LazyUpdater = (*Backend)(nil)
)

// Open opens (creating if needed) the Pebble database in directory opts.Dir.
// It retries while another process holds the directory's lock for at most
// opts.LockTimeout, and stops when ctx is done.
func Open(ctx context.Context, opts Options) (*Backend, error) {
	dir := opts.Dir
	if dir == "" {
		return nil, errors.New("store/pebble: open: no directory (Options.Dir)")
	}
	popts := &pebbledb.Options{
		FS:                 opts.FS,
		Logger:             quietLogger{},
		FormatMajorVersion: pebbledb.FormatNewest,
		// Larger memtables than Pebble's 4 MiB default, and room for more of them
		// queued for flushing, so a burst of writes (the provider workload writes
		// 8 KiB per transaction from 32 writers) is not stalled behind a flush on
		// a busy machine. Pebble starts with a small memtable and doubles it at
		// each rotation up to this size.
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		L0StopWritesThreshold:       64,
	}
	// Bloom filters on every level: most Gets of a put are of absent keys (a new
	// key, a key without a reservation), which a filter answers without reading
	// a data block. Set on L0, inherited by the levels below.
	popts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// No compression: a signer's values are ciphertext, which does not compress,
	// so Snappy would only spend CPU on every flush and compaction.
	popts.Levels[0].Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
	db, err := openLocked(ctx, dir, popts, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	if err := initSchema(db); err != nil {
		return nil, errors.Join(fmt.Errorf("store/pebble: open %s: %w", dir, err), db.Close())
	}
	return &Backend{db: db, locks: clientLocks{m: make(map[string]*clientLock)}}, nil
}

// openLocked opens the database, retrying while another process holds its lock
// (an lssd that is still shutting down) for at most timeout, and until ctx is
// done.
func openLocked(ctx context.Context, dir string, popts *pebbledb.Options, timeout time.Duration) (*pebbledb.DB, error) {
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	deadline := time.Now().Add(timeout)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("store/pebble: open %s: %w", dir, err)
		}
		db, err := pebbledb.Open(dir, popts)
		switch {
		case err == nil:
			return db, nil
		case !isLockError(err):
			return nil, fmt.Errorf("store/pebble: open %s: %w", dir, err)
		case time.Now().After(deadline):
			return nil, fmt.Errorf("store/pebble: open %s: %w (lock not acquired within %v: %v)", dir, ErrLocked, timeout, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Update implements store.Backend: fn's writes are committed in one synced batch.
func (b *Backend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	return b.update(ctx, client, fn, pebbledb.Sync)
}

// UpdateLazy implements store.LazyUpdater: fn's writes are committed in one batch
// that is written to the log but not fsynced. The next synced batch (of any
// client) makes it durable, as does Close.
func (b *Backend) UpdateLazy(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	return b.update(ctx, client, fn, pebbledb.NoSync)
}

func (b *Backend) update(ctx context.Context, client []byte, fn func(store.Txn) error, wo *pebbledb.WriteOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ns, err := namespace(client)
	if err != nil {
		return err
	}
	if !b.enter() {
		return store.ErrClosed
	}
	defer b.running.Done()
	l := b.locks.acquire(ns)
	defer b.locks.release(ns, l)
	l.Lock()
	defer l.Unlock()
	if err := ctx.Err(); err != nil {
		return err // given up while waiting for the client's lock: nothing ran
	}
	batch := b.db.NewIndexedBatch()
	defer batch.Close()
	if err := fn(&txn{r: batch, w: batch, ns: ns}); err != nil {
		return err // the batch is dropped: nothing fn wrote is kept
	}
	if batch.Empty() {
		return nil
	}
	if err := batch.Commit(wo); err != nil {
		return fmt.Errorf("store/pebble: commit: %w", err)
	}
	return nil
}

// View implements store.Backend. It holds the client's lock shared, so it reads
// one state of the namespace that no Update of the client is changing.
func (b *Backend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ns, err := namespace(client)
	if err != nil {
		return err
	}
	if !b.enter() {
		return store.ErrClosed
	}
	defer b.running.Done()
	l := b.locks.acquire(ns)
	defer b.locks.release(ns, l)
	l.RLock()
	defer l.RUnlock()
	return fn(&txn{r: b.db, ns: ns})
}

// Close implements store.Backend: it refuses new calls, waits for running ones,
// syncs the log (so lazy commits written before Close are durable) and closes the
// database. Calling it again returns the first call's result.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.running.Wait()
		b.closeErr = errors.Join(b.db.LogData(nil, pebbledb.Sync), b.db.Close())
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

// clientLocks holds one lock per client with a transaction in progress, dropped
// when its last user is done, so idle clients cost nothing.
type clientLocks struct {
	mu sync.Mutex
	m  map[string]*clientLock
}

type clientLock struct {
	sync.RWMutex
	users int // guarded by clientLocks.mu
}

// acquire returns the lock of the namespace ns, registering one more user.
func (c *clientLocks) acquire(ns []byte) *clientLock {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.m[string(ns)]
	if l == nil {
		l = &clientLock{}
		c.m[string(ns)] = l
	}
	l.users++
	return l
}

// release unregisters a user of l, forgetting l when it was the last one.
func (c *clientLocks) release(ns []byte, l *clientLock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.users--; l.users == 0 {
		delete(c.m, string(ns))
	}
}

// quietLogger drops Pebble's informational messages (one per flush and
// compaction) and keeps its errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)              {}
func (quietLogger) Errorf(format string, args ...any) { pebbledb.DefaultLogger.Errorf(format, args...) }
func (quietLogger) Fatalf(format string, args ...any) { pebbledb.DefaultLogger.Fatalf(format, args...) }
