package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"
)

// DefaultRetention is how long a decided (committed or aborted) transaction record
// is kept. Recovery must run within this time: once a fence record expires, a
// Prepare of that txid arriving later would be accepted again.
const DefaultRetention = 7 * 24 * time.Hour

// TxID length bounds: long enough to be unguessable and unique, short enough to keep
// records small.
const (
	MinTxIDLen = 16
	MaxTxIDLen = 64
)

// Options tune a Store.
type Options struct {
	// Retention of decided transaction records; DefaultRetention if zero.
	Retention time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Store implements the LSS storage rules over a Backend. It is safe for concurrent
// use; every method is one backend transaction.
type Store struct {
	b         Backend
	retention time.Duration
	now       func() time.Time
}

// New returns a Store over b.
func New(b Backend, opts Options) *Store {
	s := &Store{b: b, retention: opts.Retention, now: opts.Now}
	if s.retention <= 0 {
		s.retention = DefaultRetention
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Close closes the backend.
func (s *Store) Close() error { return s.b.Close() }

// Put writes kvs atomically if every key's version is the stored version + 1 (0 for
// an absent key) and no key is reserved by a prepared transaction. Otherwise it
// writes nothing and returns the conflicting keys in request order.
func (s *Store) Put(ctx context.Context, client []byte, kvs []KV) (conflicts []Conflict, err error) {
	if err := CheckKeys(kvs); err != nil {
		return nil, err
	}
	err = s.b.Update(ctx, client, func(tx Txn) error {
		conflicts, err = checkVersions(tx, kvs)
		if err != nil || len(conflicts) > 0 {
			return err
		}
		for _, kv := range kvs {
			if err := tx.Set(kv); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return conflicts, nil
}

// Get returns the client's key-values whose keys start with prefix, in key order,
// from one snapshot.
func (s *Store) Get(ctx context.Context, client []byte, prefix string) ([]KV, error) {
	var kvs []KV
	err := s.b.View(ctx, client, func(r Reader) (err error) {
		kvs, err = r.Scan(prefix)
		return err
	})
	return kvs, err
}

// Restore writes each kv whose version is greater than the stored one (or whose key
// is absent), and keeps the rest: it never lowers a version. Reserved keys are kept
// too: their next version belongs to the prepared transaction. It returns the keys
// applied and, for each key kept, what is stored (version -1 if absent).
func (s *Store) Restore(ctx context.Context, client []byte, kvs []KV) (applied []string, kept []Conflict, err error) {
	if err := CheckKeys(kvs); err != nil {
		return nil, nil, err
	}
	if err := checkRestoreVersions(kvs); err != nil {
		return nil, nil, err
	}
	err = s.b.Update(ctx, client, func(tx Txn) error {
		applied, kept = nil, nil
		for _, kv := range kvs {
			stored, ok, err := tx.Get(kv.Key)
			if err != nil {
				return err
			}
			txid, reserved, err := tx.Reservation(kv.Key)
			if err != nil {
				return err
			}
			if reserved || (ok && stored.Version >= kv.Version) {
				kept = append(kept, conflictOf(kv.Key, stored, ok, txid))
				continue
			}
			if err := tx.Set(kv); err != nil {
				return err
			}
			applied = append(applied, kv.Key)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return applied, kept, nil
}

// Prepare validates kvs exactly as Put does and, if they pass, durably records them
// as pending under txid and reserves their keys. Preparing a prepared txid again
// with the same writes, or a committed one, succeeds and reports its state; an
// aborted txid is refused with state TxAborted; a conflict leaves no record and
// returns TxUnknown with the conflicts. It records no quorum; see PrepareQuorum.
func (s *Store) Prepare(ctx context.Context, client, txid []byte, kvs []KV) (state TxState, conflicts []Conflict, err error) {
	return s.PrepareQuorum(ctx, client, txid, Quorum{}, kvs)
}

// PrepareQuorum is Prepare recording q, the thresholds the coordinator decides
// the transaction with, for recovery to use. Preparing a prepared txid again
// requires the same writes and the same q.
func (s *Store) PrepareQuorum(ctx context.Context, client, txid []byte, q Quorum, kvs []KV) (state TxState, conflicts []Conflict, err error) {
	if err := CheckTxID(txid); err != nil {
		return TxUnknown, nil, err
	}
	if err := CheckKeys(kvs); err != nil {
		return TxUnknown, nil, err
	}
	if err := CheckQuorum(q); err != nil {
		return TxUnknown, nil, err
	}
	err = s.b.Update(ctx, client, func(tx Txn) error {
		state, conflicts = TxUnknown, nil
		rec, ok, err := tx.Record(txid)
		if err != nil {
			return err
		}
		if ok {
			if rec.State == TxPrepared && (!sameKVs(rec.KVs, kvs) || !rec.Quorum.Equal(q)) {
				return fmt.Errorf("%w: txid %x", ErrTxMismatch, txid)
			}
			state = rec.State
			return nil
		}
		conflicts, err = checkVersions(tx, kvs)
		if err != nil || len(conflicts) > 0 {
			return err
		}
		for _, kv := range kvs {
			if err := tx.Reserve(kv.Key, txid); err != nil {
				return err
			}
		}
		state = TxPrepared
		return tx.SetRecord(Record{TxID: txid, State: TxPrepared, KVs: kvs, Updated: s.now(), Quorum: q})
	})
	if err != nil {
		return TxUnknown, nil, err
	}
	return state, conflicts, nil
}

// Commit applies a prepared transaction's writes atomically and releases its keys.
// Committing a committed txid succeeds again. An unknown txid is ErrTxUnknown (the
// caller repairs this server with Restore); an aborted one is ErrTxAborted.
func (s *Store) Commit(ctx context.Context, client, txid []byte) error {
	if err := CheckTxID(txid); err != nil {
		return err
	}
	return s.updateLazy(ctx, client, func(tx Txn) error { // not synced: see LazyUpdater
		rec, ok, err := tx.Record(txid)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			return fmt.Errorf("%w: txid %x", ErrTxUnknown, txid)
		case rec.State == TxCommitted:
			return nil
		case rec.State == TxAborted:
			return fmt.Errorf("%w: txid %x cannot be committed", ErrTxAborted, txid)
		}
		for _, kv := range rec.KVs {
			if err := tx.Set(kv); err != nil {
				return err
			}
			if err := tx.Release(kv.Key); err != nil {
				return err
			}
		}
		// The writes now live in the data; the record only has to say "committed"
		// (recovery restores from the records still prepared elsewhere), so it
		// drops them rather than store every value a second time. The quorum stays,
		// for audit to judge the transaction's records by.
		return tx.SetRecord(Record{TxID: txid, State: TxCommitted, Updated: s.now(), Quorum: rec.Quorum})
	})
}

// Fence asks whether txid was prepared: an unknown txid is recorded as aborted (so a
// late Prepare of it is refused) and TxAborted returned; otherwise nothing changes
// and the current state is returned.
func (s *Store) Fence(ctx context.Context, client, txid []byte) (TxState, error) {
	if err := CheckTxID(txid); err != nil {
		return TxUnknown, err
	}
	var state TxState
	err := s.b.Update(ctx, client, func(tx Txn) error {
		rec, ok, err := tx.Record(txid)
		if err != nil {
			return err
		}
		if ok {
			state = rec.State
			return nil
		}
		state = TxAborted
		return tx.SetRecord(Record{TxID: txid, State: TxAborted, Updated: s.now()})
	})
	if err != nil {
		return TxUnknown, err
	}
	return state, nil
}

// Abort drops a prepared transaction (releasing its keys) or fences an unknown one.
// Aborting an aborted txid succeeds again; a committed one is ErrTxCommitted.
func (s *Store) Abort(ctx context.Context, client, txid []byte) error {
	if err := CheckTxID(txid); err != nil {
		return err
	}
	return s.b.Update(ctx, client, func(tx Txn) error {
		rec, ok, err := tx.Record(txid)
		if err != nil {
			return err
		}
		switch {
		case ok && rec.State == TxAborted:
			return nil
		case ok && rec.State == TxCommitted:
			return fmt.Errorf("%w: txid %x cannot be aborted", ErrTxCommitted, txid)
		}
		for _, kv := range rec.KVs {
			if err := tx.Release(kv.Key); err != nil {
				return err
			}
		}
		return tx.SetRecord(Record{TxID: txid, State: TxAborted, Updated: s.now(), Quorum: rec.Quorum})
	})
}

// Transactions returns the client's records, pending and recently decided, in txid
// order.
func (s *Store) Transactions(ctx context.Context, client []byte) ([]Record, error) {
	var recs []Record
	err := s.b.View(ctx, client, func(r Reader) (err error) {
		recs, err = r.Records()
		return err
	})
	return recs, err
}

// pruneBatch bounds the records one Prune transaction deletes, so a backend with
// a per-transaction operation limit (etcd allows 128 by default) can always
// prune, however many records expired.
const pruneBatch = 100

// Prune deletes the client's decided records older than the retention and returns
// how many it deleted. Prepared records are never pruned: they hold reservations
// until a coordinator or recovery decides them. It deletes in transactions of at
// most pruneBatch records until none is left or ctx ends.
func (s *Store) Prune(ctx context.Context, client []byte) (int, error) {
	cutoff := s.now().Add(-s.retention)
	total := 0
	for {
		n := 0
		err := s.b.Update(ctx, client, func(tx Txn) error {
			n = 0
			recs, err := tx.Records()
			if err != nil {
				return err
			}
			for _, rec := range recs {
				if n == pruneBatch {
					break
				}
				if rec.State != TxPrepared && rec.Updated.Before(cutoff) {
					if err := tx.DeleteRecord(rec.TxID); err != nil {
						return err
					}
					n++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// checkVersions applies the version rule and the reservations to kvs and returns
// the conflicts in request order.
func checkVersions(tx Reader, kvs []KV) ([]Conflict, error) {
	var conflicts []Conflict
	for _, kv := range kvs {
		stored, ok, err := tx.Get(kv.Key)
		if err != nil {
			return nil, err
		}
		txid, reserved, err := tx.Reservation(kv.Key)
		if err != nil {
			return nil, err
		}
		expected := int64(0)
		if ok {
			expected = stored.Version + 1
		}
		if reserved || kv.Version != expected {
			conflicts = append(conflicts, conflictOf(kv.Key, stored, ok, txid))
		}
	}
	return conflicts, nil
}

func conflictOf(key string, stored KV, ok bool, reservedBy []byte) Conflict {
	c := Conflict{Key: key, Version: -1, ReservedBy: reservedBy}
	if ok {
		c.Version, c.Value = stored.Version, stored.Value
	}
	return c
}

func sameKVs(a, b []KV) bool {
	return slices.EqualFunc(a, b, func(x, y KV) bool {
		return x.Key == y.Key && x.Version == y.Version && bytes.Equal(x.Value, y.Value)
	})
}
