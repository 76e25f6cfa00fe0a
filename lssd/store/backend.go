package store

import (
	"context"
	"errors"
)

// ErrClosed is returned by every Backend's Update and View after its Close, and
// so by the Store's methods over a closed Backend; the conformance suite checks
// it for every backend.
var ErrClosed = errors.New("store: closed")

// Failures of a database server that a request may well get past if sent again
// later. Backends wrap their errors with these (fmt.Errorf("...: %w", ...)) so
// that lssd answers with a status that tells the client to retry, not a server
// fault.
var (
	// ErrContention means an Update kept losing races with concurrent updates of
	// the same data (etcd guards that kept failing, PostgreSQL serialization
	// failures or deadlocks) until its attempts ran out. Nothing was written.
	ErrContention = errors.New("store: update kept conflicting with concurrent updates and gave up")
	// ErrUnavailable means the database could not be reached or lost the
	// connection (server down, restarting, network cut). An Update that fails so
	// may or may not have been committed, unless the wrapping error says it was
	// never sent.
	ErrUnavailable = errors.New("store: database unavailable")
)

// Backend is what a database must provide. Every method is scoped to one client's
// namespace: no call can see another client's keys or records.
type Backend interface {
	// Update runs fn in one atomic, serializable, durable read-write transaction and
	// returns only once its writes are on stable storage. If fn returns an error,
	// nothing it wrote is kept. fn may be run more than once (after a serialization
	// conflict, or when a group commit is retried), so it must not have effects
	// outside the Txn other than resetting and filling its own results.
	Update(ctx context.Context, client []byte, fn func(Txn) error) error
	// View runs fn over one consistent snapshot.
	View(ctx context.Context, client []byte, fn func(Reader) error) error
	// Close releases the backend; it waits for running transactions. Update
	// and View return ErrClosed afterwards.
	Close() error
}

// Reader reads one client's namespace.
type Reader interface {
	// Get returns the stored key-value, or ok=false if the key is absent.
	Get(key string) (kv KV, ok bool, err error)
	// Scan returns every key-value whose key starts with prefix (byte for byte; empty
	// means all), in ascending key order.
	Scan(prefix string) ([]KV, error)
	// Reservation returns the txid of the prepared transaction holding key, if any.
	Reservation(key string) (txid []byte, ok bool, err error)
	// Record returns the record of txid, or ok=false if there is none.
	Record(txid []byte) (rec Record, ok bool, err error)
	// Records returns every record, in ascending txid order.
	Records() ([]Record, error)
	// ScanRange is Scan from the first key after *after (from the first key under
	// prefix when after is nil), bounded by b: it stops after b.Items key-values,
	// or after the one that takes their total KV.Size past b.Bytes (that one is
	// returned, so the caller sees the bound was passed), without reading further
	// from the database. A page or a capped read never holds the whole namespace.
	ScanRange(prefix string, after *string, b Bound) ([]KV, error)
	// RecordsRange is Records from the first txid after after (from the first when
	// after is empty; a txid is never empty), bounded by b as ScanRange is, with
	// Record.Size.
	RecordsRange(after []byte, b Bound) ([]Record, error)
}

// Stater is an optional Reader capability: the version and value length of a
// stored key without copying its value out. The store's own bookkeeping (the
// version rule, quota counting) needs only those, and a backend whose Get copies
// the value (bolt's pages are only valid inside their transaction) saves that
// copy for every key a write touches. Readers without it are asked with Get.
type Stater interface {
	// Stat returns the stored key's version and len(value), or ok=false if the
	// key is absent; what Get would return for them, and its errors.
	Stat(key string) (version int64, valueLen int, ok bool, err error)
}

// stat is Stater.Stat where r has it, else Get.
func stat(r Reader, key string) (version int64, valueLen int, ok bool, err error) {
	if s, is := r.(Stater); is {
		return s.Stat(key)
	}
	kv, ok, err := r.Get(key)
	return kv.Version, len(kv.Value), ok, err
}

// Txn reads and writes one client's namespace inside Backend.Update.
type Txn interface {
	Reader
	// Set stores kv, replacing any previous version of the key.
	Set(kv KV) error
	// Reserve marks key as held by the prepared transaction txid.
	Reserve(key string, txid []byte) error
	// Release removes key's reservation.
	Release(key string) error
	// SetRecord stores rec, replacing any previous record of its txid.
	SetRecord(rec Record) error
	// DeleteRecord removes the record of txid.
	DeleteRecord(txid []byte) error
}
