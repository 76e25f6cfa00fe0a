// Package memory is an in-memory store.Backend for tests. It is not durable: its
// data lives as long as the process.
package memory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/lssquorum/lss/lssd/store"
)

// Backend keeps every namespace in maps behind one lock. Transactions run one at a
// time, which makes them trivially serializable.
type Backend struct {
	mu     sync.RWMutex
	spaces map[string]*space
	closed bool
}

type space struct {
	data map[string]store.KV
	res  map[string][]byte
	recs map[string]store.Record
}

var _ store.Backend = (*Backend)(nil)

// Options tune a Backend; there is nothing to tune yet. The type is there so
// that every backend opens the same way: Open(ctx, Options).
type Options struct{}

// Open returns an empty Backend; it fails only when ctx is already done.
func Open(ctx context.Context, _ Options) (*Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Backend{spaces: map[string]*space{}}, nil
}

// Update implements store.Backend. Writes go to an overlay applied only if fn
// succeeds.
func (b *Backend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return store.ErrClosed
	}
	sp := b.spaces[string(client)]
	if sp == nil {
		sp = &space{data: map[string]store.KV{}, res: map[string][]byte{}, recs: map[string]store.Record{}}
	}
	tx := &txn{base: sp, data: map[string]*store.KV{}, res: map[string][]byte{}, recs: map[string]*store.Record{}}
	if err := fn(tx); err != nil {
		return err
	}
	tx.apply()
	b.spaces[string(client)] = sp
	return nil
}

// View implements store.Backend.
func (b *Backend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return store.ErrClosed
	}
	sp := b.spaces[string(client)]
	if sp == nil {
		sp = &space{}
	}
	return fn(&txn{base: sp})
}

// Close implements store.Backend.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// txn reads through its overlay to the base space. A nil entry in an overlay map
// means deleted.
type txn struct {
	base *space
	data map[string]*store.KV
	res  map[string][]byte
	recs map[string]*store.Record
}

func (t *txn) Get(key string) (store.KV, bool, error) {
	if kv, ok := t.data[key]; ok {
		return clone(*kv), true, nil
	}
	kv, ok := t.base.data[key]
	return clone(kv), ok, nil
}

func (t *txn) Scan(prefix string) ([]store.KV, error) {
	seen := map[string]bool{}
	var out []store.KV
	for k, kv := range t.data {
		if strings.HasPrefix(k, prefix) {
			out = append(out, *kv)
			seen[k] = true
		}
	}
	for k, kv := range t.base.data {
		if strings.HasPrefix(k, prefix) && !seen[k] {
			out = append(out, clone(kv))
		}
	}
	slices.SortFunc(out, func(a, b store.KV) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (t *txn) Reservation(key string) ([]byte, bool, error) {
	if txid, ok := t.res[key]; ok {
		return slices.Clone(txid), txid != nil, nil
	}
	txid, ok := t.base.res[key]
	return slices.Clone(txid), ok, nil
}

func (t *txn) Record(txid []byte) (store.Record, bool, error) {
	if rec, ok := t.recs[string(txid)]; ok {
		if rec == nil {
			return store.Record{}, false, nil
		}
		return cloneRecord(*rec), true, nil
	}
	rec, ok := t.base.recs[string(txid)]
	return cloneRecord(rec), ok, nil
}

func (t *txn) Records() ([]store.Record, error) {
	var out []store.Record
	for id, rec := range t.base.recs {
		if _, over := t.recs[id]; !over {
			out = append(out, cloneRecord(rec))
		}
	}
	for _, rec := range t.recs {
		if rec != nil {
			out = append(out, cloneRecord(*rec))
		}
	}
	slices.SortFunc(out, func(a, b store.Record) int { return strings.Compare(string(a.TxID), string(b.TxID)) })
	return out, nil
}

func (t *txn) Set(kv store.KV) error {
	c := clone(kv)
	t.data[kv.Key] = &c
	return nil
}

func (t *txn) Reserve(key string, txid []byte) error {
	t.res[key] = slices.Clone(txid)
	return nil
}

func (t *txn) Release(key string) error {
	t.res[key] = nil
	return nil
}

func (t *txn) SetRecord(rec store.Record) error {
	rec = cloneRecord(rec)
	t.recs[string(rec.TxID)] = &rec
	return nil
}

func (t *txn) DeleteRecord(txid []byte) error {
	t.recs[string(txid)] = nil
	return nil
}

func (t *txn) apply() {
	for k, kv := range t.data {
		t.base.data[k] = *kv
	}
	for k, txid := range t.res {
		if txid == nil {
			delete(t.base.res, k)
		} else {
			t.base.res[k] = txid
		}
	}
	for id, rec := range t.recs {
		if rec == nil {
			delete(t.base.recs, id)
		} else {
			t.base.recs[id] = *rec
		}
	}
}

func clone(kv store.KV) store.KV {
	kv.Value = slices.Clone(kv.Value)
	kv.TxID = slices.Clone(kv.TxID)
	kv.Proof = slices.Clone(kv.Proof)
	return kv
}

// cloneRecord copies rec deeply, so that neither the caller nor the store can
// change the other's copy.
func cloneRecord(rec store.Record) store.Record {
	rec.TxID = slices.Clone(rec.TxID)
	rec.Seal = slices.Clone(rec.Seal)
	kvs := make([]store.KV, len(rec.KVs))
	for i, kv := range rec.KVs {
		kvs[i] = clone(kv)
	}
	rec.KVs = kvs
	if len(kvs) == 0 {
		rec.KVs = nil
	}
	return rec
}

func (t *txn) ScanRange(prefix string, after *string, b store.Bound) ([]store.KV, error) {
	var keys []string
	in := func(k string) bool { return strings.HasPrefix(k, prefix) && (after == nil || k > *after) }
	for k := range t.data {
		if in(k) {
			keys = append(keys, k)
		}
	}
	for k := range t.base.data {
		if _, over := t.data[k]; !over && in(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []store.KV
	g := b.Budget()
	for _, k := range keys {
		kv, _, _ := t.Get(k)
		out = append(out, kv)
		if !g.Take(kv.Size()) {
			break
		}
	}
	return out, nil
}

func (t *txn) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	var ids []string
	in := func(id string) bool { return len(after) == 0 || id > string(after) }
	for id := range t.base.recs {
		if _, over := t.recs[id]; !over && in(id) {
			ids = append(ids, id)
		}
	}
	for id, rec := range t.recs {
		if rec != nil && in(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []store.Record
	g := b.Budget()
	for _, id := range ids {
		rec, _, _ := t.Record([]byte(id))
		out = append(out, rec)
		if !g.Take(rec.Size()) {
			break
		}
	}
	return out, nil
}
