package bolt

import (
	"bytes"
	"slices"
	"strings"

	"github.com/lssquorum/lss/lssd/store"
)

// overlay is a store.Txn that reads through to base but keeps its writes aside until
// apply. Group commit runs each caller's function against its own overlay, so that a
// function that fails leaves nothing in the shared bolt transaction while the
// functions around it keep theirs.
type overlay struct {
	base *txn
	data map[string]store.KV
	res  map[string][]byte        // a nil txid means released
	recs map[string]*store.Record // a nil record means deleted
}

func newOverlay(base *txn) *overlay {
	return &overlay{base: base}
}

func (o *overlay) Get(key string) (store.KV, bool, error) {
	if kv, ok := o.data[key]; ok {
		kv.Value = slices.Clone(kv.Value)
		return kv, true, nil
	}
	return o.base.Get(key)
}

func (o *overlay) Scan(prefix string) ([]store.KV, error) {
	out, err := o.base.Scan(prefix)
	if err != nil || len(o.data) == 0 {
		return out, err
	}
	var mine []store.KV
	for k, kv := range o.data {
		if strings.HasPrefix(k, prefix) {
			kv.Value = slices.Clone(kv.Value)
			mine = append(mine, kv)
		}
	}
	// Keep the base entries this overlay does not replace, then merge by key.
	out = slices.DeleteFunc(out, func(kv store.KV) bool { _, over := o.data[kv.Key]; return over })
	out = append(out, mine...)
	slices.SortFunc(out, func(a, b store.KV) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (o *overlay) Reservation(key string) ([]byte, bool, error) {
	if txid, ok := o.res[key]; ok {
		return slices.Clone(txid), txid != nil, nil
	}
	return o.base.Reservation(key)
}

func (o *overlay) Record(txid []byte) (store.Record, bool, error) {
	if rec, ok := o.recs[string(txid)]; ok {
		if rec == nil {
			return store.Record{}, false, nil
		}
		return cloneRecord(*rec), true, nil
	}
	return o.base.Record(txid)
}

func (o *overlay) Records() ([]store.Record, error) {
	out, err := o.base.Records()
	if err != nil || len(o.recs) == 0 {
		return out, err
	}
	out = slices.DeleteFunc(out, func(rec store.Record) bool { _, over := o.recs[string(rec.TxID)]; return over })
	for _, rec := range o.recs {
		if rec != nil {
			out = append(out, cloneRecord(*rec))
		}
	}
	slices.SortFunc(out, func(a, b store.Record) int { return bytes.Compare(a.TxID, b.TxID) })
	return out, nil
}

func (o *overlay) Set(kv store.KV) error {
	if err := checkKey(kv.Key); err != nil {
		return err
	}
	if o.data == nil {
		o.data = map[string]store.KV{}
	}
	kv.Value = slices.Clone(kv.Value)
	o.data[kv.Key] = kv
	return nil
}

func (o *overlay) Reserve(key string, txid []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if o.res == nil {
		o.res = map[string][]byte{}
	}
	o.res[key] = append([]byte{}, txid...) // never nil: nil means released
	return nil
}

func (o *overlay) Release(key string) error {
	if o.res == nil {
		o.res = map[string][]byte{}
	}
	o.res[key] = nil
	return nil
}

func (o *overlay) SetRecord(rec store.Record) error {
	if err := checkTxID(rec.TxID); err != nil {
		return err
	}
	if o.recs == nil {
		o.recs = map[string]*store.Record{}
	}
	rec = cloneRecord(rec)
	o.recs[string(rec.TxID)] = &rec
	return nil
}

func (o *overlay) DeleteRecord(txid []byte) error {
	if o.recs == nil {
		o.recs = map[string]*store.Record{}
	}
	o.recs[string(txid)] = nil
	return nil
}

// apply writes the overlay into its base transaction.
func (o *overlay) apply() error {
	for _, kv := range o.data {
		if err := o.base.Set(kv); err != nil {
			return err
		}
	}
	for key, txid := range o.res {
		var err error
		if txid == nil {
			err = o.base.Release(key)
		} else {
			err = o.base.Reserve(key, txid)
		}
		if err != nil {
			return err
		}
	}
	for id, rec := range o.recs {
		var err error
		if rec == nil {
			err = o.base.DeleteRecord([]byte(id))
		} else {
			err = o.base.SetRecord(*rec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func cloneRecord(rec store.Record) store.Record {
	rec.TxID = slices.Clone(rec.TxID)
	kvs := make([]store.KV, 0, len(rec.KVs))
	for _, kv := range rec.KVs {
		kv.Value = slices.Clone(kv.Value)
		kvs = append(kvs, kv)
	}
	rec.KVs = kvs
	return rec
}
