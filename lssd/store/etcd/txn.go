package etcd

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lssquorum/lss/lssd/store"
)

// txn reads one client's namespace at one revision and buffers writes. It is both
// the Reader of a View and the Txn of an Update.
type txn struct {
	ctx context.Context
	kv  clientv3.KV
	l   layout

	rev    int64             // the snapshot revision; 0 until the first read
	reads  map[string]read   // etcd key → what it held at rev
	ranged bool              // a range was read: guard on "seq" instead of each key
	writes map[string][]byte // etcd key → new value; nil means delete
}

// read is one etcd key as seen at the snapshot revision.
type read struct {
	value   []byte
	present bool
	modRev  int64 // 0 if absent
}

func newTxn(ctx context.Context, kv clientv3.KV, l layout) *txn {
	return &txn{ctx: ctx, kv: kv, l: l, reads: map[string]read{}, writes: map[string][]byte{}}
}

// get returns what key holds in this transaction: its own write, else the value at
// the snapshot revision.
func (t *txn) get(key string) ([]byte, bool, error) {
	if v, written := t.writes[key]; written {
		return v, v != nil, nil
	}
	if r, ok := t.reads[key]; ok {
		return r.value, r.present, nil
	}
	resp, err := t.kv.Get(t.ctx, key, t.atRev()...)
	if err != nil {
		return nil, false, err
	}
	t.pin(resp.Header.Revision)
	r := read{}
	if len(resp.Kvs) == 1 {
		r = read{value: resp.Kvs[0].Value, present: true, modRev: resp.Kvs[0].ModRevision}
	}
	t.reads[key] = r
	return r.value, r.present, nil
}

// scan returns every etcd key-value under prefix in this transaction, in key order.
func (t *txn) scan(prefix string) ([]string, [][]byte, error) {
	resp, err := t.kv.Get(t.ctx, prefix, append(t.atRev(), clientv3.WithPrefix())...)
	if err != nil {
		return nil, nil, err
	}
	t.pin(resp.Header.Revision)
	t.ranged = true
	merged := map[string][]byte{}
	for _, kv := range resp.Kvs {
		merged[string(kv.Key)] = kv.Value
	}
	for k, v := range t.writes {
		if strings.HasPrefix(k, prefix) {
			merged[k] = v
		}
	}
	var keys []string
	var values [][]byte
	for _, k := range slices.Sorted(maps.Keys(merged)) {
		if merged[k] != nil {
			keys, values = append(keys, k), append(values, merged[k])
		}
	}
	return keys, values, nil
}

func (t *txn) atRev() []clientv3.OpOption {
	if t.rev == 0 {
		return nil
	}
	return []clientv3.OpOption{clientv3.WithRev(t.rev)}
}

// pin makes the first read's revision the snapshot.
func (t *txn) pin(rev int64) {
	if t.rev == 0 {
		t.rev = rev
	}
}

// entry returns the entry of LSS key key.
func (t *txn) entry(key string) (entry, error) {
	b, ok, err := t.get(t.l.entryKey(key))
	if err != nil || !ok {
		return entry{}, err
	}
	return decodeEntry(key, b)
}

func (t *txn) putEntry(key string, e entry) {
	if e.empty() {
		t.writes[t.l.entryKey(key)] = nil
	} else {
		t.writes[t.l.entryKey(key)] = encodeEntry(e)
	}
}

func (t *txn) Get(key string) (store.KV, bool, error) {
	e, err := t.entry(key)
	return e.kv, e.hasValue, err
}

func (t *txn) Scan(prefix string) ([]store.KV, error) {
	keys, values, err := t.scan(t.l.entryKey(prefix))
	if err != nil {
		return nil, err
	}
	var out []store.KV
	for i, k := range keys {
		key := t.l.keyOf(k)
		e, err := decodeEntry(key, values[i])
		if err != nil {
			return nil, err
		}
		if e.hasValue {
			out = append(out, e.kv)
		}
	}
	return out, nil
}

func (t *txn) Reservation(key string) ([]byte, bool, error) {
	e, err := t.entry(key)
	return e.reserved, e.reserved != nil, err
}

func (t *txn) Record(txid []byte) (store.Record, bool, error) {
	b, ok, err := t.get(t.l.recordKey(txid))
	if err != nil || !ok {
		return store.Record{}, false, err
	}
	rec, err := store.DecodeRecord(b)
	return rec, err == nil, err
}

func (t *txn) Records() ([]store.Record, error) {
	_, values, err := t.scan(t.l.recordPrefix())
	if err != nil {
		return nil, err
	}
	out := make([]store.Record, 0, len(values))
	for _, b := range values {
		rec, err := store.DecodeRecord(b)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (t *txn) Set(kv store.KV) error {
	e, err := t.entry(kv.Key)
	if err != nil {
		return err
	}
	e.hasValue, e.kv = true, kv
	t.putEntry(kv.Key, e)
	return nil
}

func (t *txn) Reserve(key string, txid []byte) error {
	e, err := t.entry(key)
	if err != nil {
		return err
	}
	e.reserved = append([]byte{}, txid...)
	t.putEntry(key, e)
	return nil
}

func (t *txn) Release(key string) error {
	e, err := t.entry(key)
	if err != nil {
		return err
	}
	e.reserved = nil
	t.putEntry(key, e)
	return nil
}

func (t *txn) SetRecord(rec store.Record) error {
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return err
	}
	t.writes[t.l.recordKey(rec.TxID)] = b
	return nil
}

func (t *txn) DeleteRecord(txid []byte) error {
	t.writes[t.l.recordKey(txid)] = nil
	return nil
}

// commit applies the buffered writes if nothing read has changed since the
// snapshot revision, and returns errStale if something has.
func (t *txn) commit() error {
	if len(t.writes) == 0 {
		// Only reads, all from one revision: already a consistent, serializable result.
		return nil
	}
	cmps := t.guard()
	ops := make([]clientv3.Op, 0, len(t.writes)+1)
	for _, k := range slices.Sorted(maps.Keys(t.writes)) {
		if v := t.writes[k]; v != nil {
			ops = append(ops, clientv3.OpPut(k, string(v)))
		} else {
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	// Every committing update moves "seq", which is what range readers guard on.
	ops = append(ops, clientv3.OpPut(t.l.seqKey(), ""))
	resp, err := t.kv.Txn(t.ctx).If(cmps...).Then(ops...).Commit()
	switch {
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge):
		return fmt.Errorf("etcd: one update of %d comparisons and %d operations is over the cluster's "+
			"--max-txn-ops or --max-request-bytes; raise them: %w", len(cmps), len(ops), err)
	case err != nil:
		return err
	case !resp.Succeeded:
		return errStale
	}
	return nil
}

// guard returns the comparisons that hold only if nothing this transaction read
// has changed since its snapshot revision. Each key read must still have the mod
// revision it had (0 if absent: this also catches a key created or deleted since).
// A range read cannot be guarded key by key (a key deleted from the range leaves
// nothing to compare), so then the guard is that no update has committed to this
// namespace since the snapshot: every one moves "seq".
func (t *txn) guard() []clientv3.Cmp {
	if t.rev == 0 {
		return nil // blind writes depend on nothing
	}
	if t.ranged {
		return []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(t.l.seqKey()), "<", t.rev+1)}
	}
	cmps := make([]clientv3.Cmp, 0, len(t.reads))
	for _, k := range slices.Sorted(maps.Keys(t.reads)) {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", t.reads[k].modRev))
	}
	return cmps
}

// rangeBatch bounds the etcd keys one request of a ranged read fetches: a read
// bounded by bytes asks again from where it stopped rather than for every key.
const rangeBatch = 64

// scanFrom calls fn with every etcd key-value under prefix from the etcd key from
// on (from sorts at or after prefix), in key order, at the snapshot revision,
// until fn returns false. With writes buffered (only an Update has any, and
// ranged reads serve Views) it merges them into a read of the whole prefix.
func (t *txn) scanFrom(prefix, from string, fn func(key string, value []byte) (bool, error)) error {
	if len(t.writes) > 0 {
		keys, values, err := t.scan(prefix)
		if err != nil {
			return err
		}
		for i, k := range keys {
			if k < from {
				continue
			}
			if more, err := fn(k, values[i]); err != nil || !more {
				return err
			}
		}
		return nil
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	t.ranged = true
	for {
		resp, err := t.kv.Get(t.ctx, from, append(t.atRev(), clientv3.WithRange(end), clientv3.WithLimit(rangeBatch))...)
		if err != nil {
			return err
		}
		t.pin(resp.Header.Revision)
		for _, kv := range resp.Kvs {
			if more, err := fn(string(kv.Key), kv.Value); err != nil || !more {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

func (t *txn) ScanRange(prefix string, after *string, b store.Bound) ([]store.KV, error) {
	var from []byte
	if after != nil {
		from = []byte(t.l.entryKey(*after))
	}
	p := t.l.entryKey(prefix)
	var out []store.KV
	g := b.Budget()
	err := t.scanFrom(p, string(store.SeekStart([]byte(p), from)), func(k string, v []byte) (bool, error) {
		e, err := decodeEntry(t.l.keyOf(k), v)
		if err != nil || !e.hasValue {
			return err == nil, err // a key only reserved holds no value
		}
		out = append(out, e.kv)
		return g.Take(e.kv.Size()), nil
	})
	return out, err
}

func (t *txn) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	var from []byte
	if len(after) > 0 {
		from = []byte(t.l.recordKey(after))
	}
	p := t.l.recordPrefix()
	var out []store.Record
	g := b.Budget()
	err := t.scanFrom(p, string(store.SeekStart([]byte(p), from)), func(_ string, v []byte) (bool, error) {
		rec, err := store.DecodeRecord(v)
		if err != nil {
			return false, err
		}
		out = append(out, rec)
		return g.Take(rec.Size()), nil
	})
	return out, err
}
