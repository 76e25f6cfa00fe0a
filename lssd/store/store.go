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
	// Quota bounds what each client may hold; zero fields are unlimited.
	Quota Quota
}

// Store implements the LSS storage rules over a Backend. It is safe for concurrent
// use; every method is one backend transaction.
type Store struct {
	b         Backend
	retention time.Duration
	now       func() time.Time
	quota     Quota
}

// New returns a Store over b.
func New(b Backend, opts Options) *Store {
	s := &Store{b: b, retention: opts.Retention, now: opts.Now, quota: opts.Quota}
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
	if err := checkNoTxFields("put", kvs); err != nil {
		return nil, err
	}
	err = s.b.Update(ctx, client, func(tx Txn) error {
		conflicts, err = checkVersions(tx, kvs)
		if err != nil || len(conflicts) > 0 {
			return err
		}
		q, err := loadUsage(tx)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := q.set(kv); err != nil {
				return err
			}
		}
		return q.save(s.quota)
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
// is absent), and keeps the rest: it never lowers a version. It returns the keys
// applied and, for each key kept, what is stored (version -1 if absent).
//
// kvs with an empty TxID are applied key by key; a reserved key is kept, since its
// next version belongs to the prepared transaction. kvs sharing a non-empty TxID
// are one transaction's writes and are applied all or nothing, so that the store
// stays transaction-closed (holding one key at the version a transaction wrote
// means holding all its keys at that version or newer):
//   - if any key of the group that needs writing (absent or older) is reserved by
//     another txid, no key of the group is written and every one is kept;
//   - otherwise every key that needs writing is written, and keys already at that
//     version or newer are kept;
//   - if the group's txid is prepared here, the Restore settles it: the group must
//     be exactly its prepared writes (key, version, value; else ErrInvalid), which
//     are written with the group's txids and proofs, its keys released and its
//     record marked committed.
func (s *Store) Restore(ctx context.Context, client []byte, kvs []KV) (applied []string, kept []Conflict, err error) {
	if err := CheckKeys(kvs); err != nil {
		return nil, nil, err
	}
	if err := checkRestoreVersions(kvs); err != nil {
		return nil, nil, err
	}
	if err := checkRestoreTxFields(kvs); err != nil {
		return nil, nil, err
	}
	groups := groupByTxID(kvs)
	err = s.b.Update(ctx, client, func(tx Txn) error {
		applied, kept = nil, nil
		held, err := readHeld(tx, kvs)
		if err != nil {
			return err
		}
		plan, settle, err := planRestore(tx, kvs, held, groups)
		if err != nil {
			return err
		}
		q, err := loadUsage(tx)
		if err != nil {
			return err
		}
		for _, rec := range settle {
			if err := q.settle(rec.TxID, rec.KVs); err != nil {
				return err
			}
		}
		for i, kv := range kvs {
			if !plan[i] {
				kept = append(kept, conflictOf(kv.Key, held[i].kv, held[i].ok, held[i].reservedBy))
				continue
			}
			if err := q.set(kv); err != nil {
				return err
			}
			applied = append(applied, kv.Key)
		}
		for _, rec := range settle {
			for _, kv := range rec.KVs {
				if err := tx.Release(kv.Key); err != nil {
					return err
				}
			}
			if err := tx.SetRecord(Record{TxID: rec.TxID, State: TxCommitted, Updated: s.now(), Quorum: rec.Quorum, Seal: rec.Seal}); err != nil {
				return err
			}
		}
		return q.save(s.quota)
	})
	if err != nil {
		return nil, nil, err
	}
	return applied, kept, nil
}

// heldKey is what the store holds for one key of a request.
type heldKey struct {
	kv         KV
	ok         bool
	reservedBy []byte
}

// readHeld reads the stored value and reservation of every key of kvs.
func readHeld(tx Reader, kvs []KV) ([]heldKey, error) {
	held := make([]heldKey, len(kvs))
	for i, kv := range kvs {
		stored, ok, err := tx.Get(kv.Key)
		if err != nil {
			return nil, err
		}
		txid, reserved, err := tx.Reservation(kv.Key)
		if err != nil {
			return nil, err
		}
		held[i] = heldKey{kv: stored, ok: ok}
		if reserved {
			held[i].reservedBy = txid
		}
	}
	return held, nil
}

// planRestore decides which kvs a Restore writes (see Restore), and returns the
// prepared records it settles. It reads records but writes nothing.
func planRestore(tx Reader, kvs []KV, held []heldKey, groups []txGroup) (write []bool, settle []Record, err error) {
	write = make([]bool, len(kvs))
	needs := func(i int) bool { return !held[i].ok || held[i].kv.Version < kvs[i].Version }
	for i, kv := range kvs {
		if len(kv.TxID) == 0 {
			write[i] = needs(i) && held[i].reservedBy == nil
		}
	}
	for _, g := range groups {
		rec, ok, err := tx.Record(g.txid)
		if err != nil {
			return nil, nil, err
		}
		if ok && rec.State == TxPrepared {
			if !sameWrites(rec.KVs, kvs, g.idx) {
				return nil, nil, fmt.Errorf("%w: restore of txid %x: its %d entries are not the %d writes prepared under it",
					ErrInvalid, g.txid, len(g.idx), len(rec.KVs))
			}
			for _, i := range g.idx {
				write[i] = true
			}
			settle = append(settle, rec)
			continue
		}
		blocked := false
		for _, i := range g.idx {
			if needs(i) && held[i].reservedBy != nil && !bytes.Equal(held[i].reservedBy, g.txid) {
				blocked = true
				break
			}
		}
		for _, i := range g.idx {
			write[i] = !blocked && needs(i)
		}
	}
	return write, settle, nil
}

// txGroup is the positions in a request of the kvs of one txid.
type txGroup struct {
	txid []byte
	idx  []int
}

// groupByTxID groups the positions of kvs with a non-empty TxID by TxID, in order
// of first appearance.
func groupByTxID(kvs []KV) []txGroup {
	var groups []txGroup
	pos := make(map[string]int)
	for i, kv := range kvs {
		if len(kv.TxID) == 0 {
			continue
		}
		g, ok := pos[string(kv.TxID)]
		if !ok {
			g = len(groups)
			pos[string(kv.TxID)] = g
			groups = append(groups, txGroup{txid: kv.TxID})
		}
		groups[g].idx = append(groups[g].idx, i)
	}
	return groups
}

// sameWrites reports whether the kvs at idx are exactly the prepared writes
// (key, version and value, in order).
func sameWrites(prepared, kvs []KV, idx []int) bool {
	if len(prepared) != len(idx) {
		return false
	}
	for j, i := range idx {
		p, kv := prepared[j], kvs[i]
		if p.Key != kv.Key || p.Version != kv.Version || !bytes.Equal(p.Value, kv.Value) {
			return false
		}
	}
	return true
}

// Prepare validates kvs exactly as Put does and, if they pass, durably records them
// as pending under txid and reserves their keys. Preparing a prepared txid again
// with the same writes, or a committed one, succeeds and reports its state; an
// aborted txid is refused with state TxAborted; a conflict leaves no record and
// returns TxUnknown with the conflicts. It records no quorum and no seal; see
// PrepareQuorum.
func (s *Store) Prepare(ctx context.Context, client, txid []byte, kvs []KV) (state TxState, conflicts []Conflict, err error) {
	return s.PrepareQuorum(ctx, client, txid, Quorum{}, nil, kvs)
}

// PrepareQuorum is Prepare recording q, the thresholds the coordinator decides
// the transaction with, for recovery to use, and seal, the client's opaque
// prepare seal. Preparing a prepared txid again requires the same writes, q and
// seal. kvs carry no TxID or Proof: Commit sets them.
func (s *Store) PrepareQuorum(ctx context.Context, client, txid []byte, q Quorum, seal []byte, kvs []KV) (state TxState, conflicts []Conflict, err error) {
	if err := CheckTxID(txid); err != nil {
		return TxUnknown, nil, err
	}
	if err := CheckKeys(kvs); err != nil {
		return TxUnknown, nil, err
	}
	if err := checkNoTxFields("prepare", kvs); err != nil {
		return TxUnknown, nil, err
	}
	if err := CheckQuorum(q); err != nil {
		return TxUnknown, nil, err
	}
	if err := CheckSeal(seal); err != nil {
		return TxUnknown, nil, err
	}
	err = s.b.Update(ctx, client, func(tx Txn) error {
		state, conflicts = TxUnknown, nil
		rec, ok, err := tx.Record(txid)
		if err != nil {
			return err
		}
		if ok {
			if rec.State == TxPrepared && (!sameKVs(rec.KVs, kvs) || !rec.Quorum.Equal(q) || !bytes.Equal(rec.Seal, seal)) {
				return fmt.Errorf("%w: txid %x", ErrTxMismatch, txid)
			}
			state = rec.State
			return nil
		}
		conflicts, err = checkVersions(tx, kvs)
		if err != nil || len(conflicts) > 0 {
			return err
		}
		u, err := loadUsage(tx)
		if err != nil {
			return err
		}
		if err := u.prepare(txid, kvs); err != nil {
			return err
		}
		if err := u.save(s.quota); err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := tx.Reserve(kv.Key, txid); err != nil {
				return err
			}
		}
		state = TxPrepared
		return tx.SetRecord(Record{TxID: txid, State: TxPrepared, KVs: kvs, Updated: s.now(), Quorum: q, Seal: seal})
	})
	if err != nil {
		return TxUnknown, nil, err
	}
	return state, conflicts, nil
}

// Commit applies a prepared transaction's writes atomically and releases its keys.
// Each write is stored with txid and its commit proof: proofs holds one per
// prepared write, in the prepared (ascending key) order; another count is
// ErrInvalid naming both. Committing a committed txid succeeds again (its proofs
// are not checked: the record no longer holds the writes). An unknown txid is
// ErrTxUnknown (the caller settles this server with Restore); an aborted one is
// ErrCommitAborted.
func (s *Store) Commit(ctx context.Context, client, txid []byte, proofs [][]byte) error {
	if err := CheckTxID(txid); err != nil {
		return err
	}
	if err := checkProofs(proofs); err != nil {
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
			return fmt.Errorf("%w: txid %x cannot be committed", ErrCommitAborted, txid)
		}
		if len(proofs) != len(rec.KVs) {
			return fmt.Errorf("%w: commit of txid %x carries %d proofs for %d prepared writes",
				ErrInvalid, txid, len(proofs), len(rec.KVs))
		}
		// Prepare counted the writes, so Commit never grows usage.
		q, err := loadUsage(tx)
		if err != nil {
			return err
		}
		kvs := make([]KV, len(rec.KVs))
		for i, kv := range rec.KVs {
			kv.TxID, kv.Proof = txid, proofs[i]
			kvs[i] = kv
		}
		if err := q.commit(txid, kvs); err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := tx.Release(kv.Key); err != nil {
				return err
			}
		}
		// The writes now live in the data; the record only has to say "committed"
		// (recovery restores from the records still prepared elsewhere), so it
		// drops them rather than store every value a second time. The quorum stays,
		// for audit to judge the transaction's records by, and the seal, which
		// authenticates it.
		if err := q.save(s.quota); err != nil {
			return err
		}
		return tx.SetRecord(Record{TxID: txid, State: TxCommitted, Updated: s.now(), Quorum: rec.Quorum, Seal: rec.Seal})
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
		if err := newGeneration(tx); err != nil {
			return err
		}
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
		if ok {
			q, err := loadUsage(tx)
			if err != nil {
				return err
			}
			if err := q.settle(rec.TxID, rec.KVs); err != nil {
				return err
			}
			if err := q.save(s.quota); err != nil {
				return err
			}
		} else if err := newGeneration(tx); err != nil { // an unknown txid is fenced
			return err
		}
		for _, kv := range rec.KVs {
			if err := tx.Release(kv.Key); err != nil {
				return err
			}
		}
		return tx.SetRecord(Record{TxID: txid, State: TxAborted, Updated: s.now(), Quorum: rec.Quorum, Seal: rec.Seal})
	})
}

// Transactions returns the client's records, pending and recently decided, in txid
// order.
func (s *Store) Transactions(ctx context.Context, client []byte) ([]Record, error) {
	var recs []Record
	err := s.b.View(ctx, client, func(r Reader) (err error) {
		all, err := r.Records()
		recs = slices.DeleteFunc(all, isUsageRecord)
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
// most pruneBatch records until none is left or ctx ends. A client whose usage
// record does not list its prepared txids yet (see prepared.go) has the list
// stored by the first of them.
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
			if err := keepPendingList(tx, recs); err != nil {
				return err
			}
			for _, rec := range recs {
				if n == pruneBatch {
					break
				}
				if rec.State != TxPrepared && !isUsageRecord(rec) && rec.Updated.Before(cutoff) {
					if err := tx.DeleteRecord(rec.TxID); err != nil {
						return err
					}
					n++
				}
			}
			if n == 0 {
				return nil
			}
			return newGeneration(tx)
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
		version, _, ok, err := stat(tx, kv.Key)
		if err != nil {
			return nil, err
		}
		txid, reserved, err := tx.Reservation(kv.Key)
		if err != nil {
			return nil, err
		}
		expected := int64(0)
		if ok {
			expected = version + 1
		}
		if reserved || kv.Version != expected {
			// Only a conflict reports the stored value: read it whole.
			stored, ok, err := tx.Get(kv.Key)
			if err != nil {
				return nil, err
			}
			conflicts = append(conflicts, conflictOf(kv.Key, stored, ok, txid))
		}
	}
	return conflicts, nil
}

func conflictOf(key string, stored KV, ok bool, reservedBy []byte) Conflict {
	c := Conflict{Key: key, Version: -1, ReservedBy: reservedBy}
	if ok {
		c.Version, c.Value, c.TxID, c.Proof = stored.Version, stored.Value, stored.TxID, stored.Proof
	}
	return c
}

func sameKVs(a, b []KV) bool {
	return slices.EqualFunc(a, b, func(x, y KV) bool {
		return x.Key == y.Key && x.Version == y.Version && bytes.Equal(x.Value, y.Value)
	})
}

// Usage returns what the client holds, as its quotas count it.
func (s *Store) Usage(ctx context.Context, client []byte) (Usage, error) {
	var u Usage
	err := s.b.View(ctx, client, func(r Reader) error {
		var found bool
		var err error
		if u, _, found, _, err = readUsage(r); err != nil || found {
			return err
		}
		u, _, err = countUsage(r)
		return err
	})
	return u, err
}
