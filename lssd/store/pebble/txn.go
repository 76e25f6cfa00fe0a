package pebble

import (
	"errors"
	"slices"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/lssquorum/lss/lssd/store"
)

// txn is one client's namespace, read from r (an indexed batch over the database
// in Update, the database itself in View) and written to w (the batch; nil in
// View). Every byte slice it returns is a copy: Pebble's are valid only until
// their closer or iterator moves on.
type txn struct {
	r  pebbledb.Reader
	w  *pebbledb.Batch
	ns []byte
}

// get returns a copy of the value at k, or ok=false if there is none.
func (t *txn) get(k []byte) (v []byte, ok bool, err error) {
	raw, closer, err := t.r.Get(k)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v = slices.Clone(raw)
	if v == nil {
		v = []byte{}
	}
	return v, true, closer.Close()
}

// scan calls fn with the name (the key after prefix's namespace and kind) and a
// copy of the value of every key starting with prefix, in key order.
func (t *txn) scan(prefix []byte, fn func(name, value []byte) error) (err error) {
	return t.scanFrom(prefix, nil, func(name, value []byte) (bool, error) { return true, fn(name, value) })
}

// scanFrom is scan from the first key after the database key after (nil: from the
// first key under prefix), stopping once fn returns false.
func (t *txn) scanFrom(prefix, after []byte, fn func(name, value []byte) (bool, error)) (err error) {
	it, err := t.r.NewIter(&pebbledb.IterOptions{LowerBound: store.SeekStart(prefix, after), UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	skip := len(t.ns) + 1
	for ok := it.First(); ok; {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		k := slices.Clone(it.Key())
		if more, err := fn(k[skip:], slices.Clone(v)); err != nil || !more {
			return err
		}
		// Seek past the key rather than step: Next walks every older version of
		// the key still in the memtable (a signer rewrites the same few keys
		// thousands of times), a seek jumps over them.
		ok = it.SeekGE(append(k, 0))
	}
	return it.Error()
}

func (t *txn) Get(k string) (store.KV, bool, error) {
	v, ok, err := t.get(key(t.ns, kindData, k))
	if err != nil || !ok {
		return store.KV{}, false, err
	}
	kv, err := store.DecodeValue(k, v)
	return kv, err == nil, err
}

func (t *txn) Scan(prefix string) ([]store.KV, error) {
	var out []store.KV
	err := t.scan(key(t.ns, kindData, prefix), func(name, v []byte) error {
		kv, err := store.DecodeValue(string(name), v)
		if err == nil {
			out = append(out, kv)
		}
		return err
	})
	return out, err
}

func (t *txn) Reservation(k string) ([]byte, bool, error) {
	return t.get(key(t.ns, kindReservation, k))
}

func (t *txn) Record(txid []byte) (store.Record, bool, error) {
	if len(txid) == 0 {
		return store.Record{}, false, nil
	}
	v, ok, err := t.get(key(t.ns, kindRecord, string(txid)))
	if err != nil || !ok {
		return store.Record{}, false, err
	}
	rec, err := store.DecodeRecord(v)
	return rec, err == nil, err
}

func (t *txn) Records() ([]store.Record, error) {
	var out []store.Record
	err := t.scan(key(t.ns, kindRecord, ""), func(_, v []byte) error {
		rec, err := store.DecodeRecord(v)
		if err == nil {
			out = append(out, rec)
		}
		return err
	})
	return out, err
}

// errReadOnly is returned by a write inside View; Store never does that.
var errReadOnly = errors.New("store/pebble: write in a read-only transaction")

func (t *txn) set(k, v []byte) error {
	if t.w == nil {
		return errReadOnly
	}
	return t.w.Set(k, v, nil)
}

func (t *txn) del(k []byte) error {
	if t.w == nil {
		return errReadOnly
	}
	return t.w.Delete(k, nil)
}

func (t *txn) Set(kv store.KV) error {
	return t.set(key(t.ns, kindData, kv.Key), store.EncodeValue(kv))
}

func (t *txn) Reserve(k string, txid []byte) error {
	return t.set(key(t.ns, kindReservation, k), txid)
}

func (t *txn) Release(k string) error {
	return t.del(key(t.ns, kindReservation, k))
}

func (t *txn) SetRecord(rec store.Record) error {
	if len(rec.TxID) == 0 {
		return errors.New("store/pebble: record without a txid")
	}
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return err
	}
	return t.set(key(t.ns, kindRecord, string(rec.TxID)), b)
}

func (t *txn) DeleteRecord(txid []byte) error {
	if len(txid) == 0 {
		return nil
	}
	return t.del(key(t.ns, kindRecord, string(txid)))
}

func (t *txn) ScanRange(prefix string, after *string, b store.Bound) ([]store.KV, error) {
	var from []byte
	if after != nil {
		from = key(t.ns, kindData, *after)
	}
	var out []store.KV
	g := b.Budget()
	err := t.scanFrom(key(t.ns, kindData, prefix), from, func(name, v []byte) (bool, error) {
		kv, err := store.DecodeValue(string(name), v)
		if err != nil {
			return false, err
		}
		out = append(out, kv)
		return g.Take(kv.Size()), nil
	})
	return out, err
}

func (t *txn) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	var from []byte
	if len(after) > 0 {
		from = key(t.ns, kindRecord, string(after))
	}
	var out []store.Record
	g := b.Budget()
	err := t.scanFrom(key(t.ns, kindRecord, ""), from, func(_, v []byte) (bool, error) {
		rec, err := store.DecodeRecord(v)
		if err != nil {
			return false, err
		}
		out = append(out, rec)
		return g.Take(rec.Size()), nil
	})
	return out, err
}
