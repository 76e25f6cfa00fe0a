package bolt

import (
	"bytes"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

// txn is one client's namespace inside a bolt transaction. Every byte slice it
// returns is a copy: bolt's slices point into its memory map and are only valid
// until the transaction ends.
type txn struct {
	tx     *bbolt.Tx
	client []byte
	// The client's buckets; nil until they exist. Read-only transactions never
	// create them, and write transactions create them on the first write, so a
	// client that never wrote anything takes no space.
	data, res, recs *bbolt.Bucket
	// wrote is set before the first change to the bolt transaction, so group
	// commit knows whether a failed function left anything behind.
	wrote bool
	// ws, in a lazy update, collects the writes for the overlay (lazy.go).
	ws *writeSet
	// Cursors for point reads, made on first use: bolt's Bucket.Get makes a new
	// cursor (and its search stack) for every read, and a write reads each of
	// its keys two or three times. A Seek starts from the bucket's root every
	// time, so a cursor stays right across the transaction's own writes.
	dataCur, resCur, recsCur *bbolt.Cursor
}

// point reads key from bucket b through the cursor *c (made on first use),
// as b.Get would: nil if absent or a nested bucket.
func point(b *bbolt.Bucket, c **bbolt.Cursor, key []byte) []byte {
	if *c == nil {
		*c = b.Cursor()
	}
	at, v := (*c).Seek(key)
	if !bytes.Equal(at, key) {
		return nil
	}
	return v
}

func newTxn(tx *bbolt.Tx, client []byte) *txn {
	t := &txn{tx: tx, client: client}
	if ns := tx.Bucket(clientsBucket).Bucket(client); ns != nil {
		t.data = ns.Bucket(dataBucket)
		t.res = ns.Bucket(reservationsBucket)
		t.recs = ns.Bucket(recordsBucket)
	}
	return t
}

// create makes the client's buckets for a first write.
func (t *txn) create() error {
	t.wrote = true
	if t.data != nil {
		return nil
	}
	ns, err := t.tx.Bucket(clientsBucket).CreateBucketIfNotExists(t.client)
	if err != nil {
		return err
	}
	for _, b := range []struct {
		name []byte
		dst  **bbolt.Bucket
	}{{dataBucket, &t.data}, {reservationsBucket, &t.res}, {recordsBucket, &t.recs}} {
		if *b.dst, err = ns.CreateBucketIfNotExists(b.name); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) Get(key string) (store.KV, bool, error) {
	if t.data == nil {
		return store.KV{}, false, nil
	}
	v := point(t.data, &t.dataCur, tagged(key))
	if v == nil {
		return store.KV{}, false, nil
	}
	kv, err := store.DecodeValue(key, v)
	return kv, err == nil, err
}

// Stat implements store.Stater: Get without the copy of the value.
func (t *txn) Stat(key string) (int64, int, bool, error) {
	if t.data == nil {
		return 0, 0, false, nil
	}
	v := point(t.data, &t.dataCur, tagged(key))
	if v == nil {
		return 0, 0, false, nil
	}
	version, n, err := store.StatValue(key, v)
	return version, n, err == nil, err
}

func (t *txn) Scan(prefix string) ([]store.KV, error) {
	if t.data == nil {
		return nil, nil
	}
	var out []store.KV
	p := tagged(prefix)
	c := t.data.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		kv, err := store.DecodeValue(string(k[1:]), v)
		if err != nil {
			return nil, err
		}
		out = append(out, kv)
	}
	return out, nil
}

func (t *txn) Reservation(key string) ([]byte, bool, error) {
	if t.res == nil {
		return nil, false, nil
	}
	v := point(t.res, &t.resCur, tagged(key))
	if v == nil {
		return nil, false, nil
	}
	return slices.Clone(v), true, nil
}

func (t *txn) Record(txid []byte) (store.Record, bool, error) {
	if t.recs == nil || len(txid) == 0 {
		return store.Record{}, false, nil
	}
	v := point(t.recs, &t.recsCur, txid)
	if v == nil {
		return store.Record{}, false, nil
	}
	// No copy of v first: DecodeRecord copies every field out of it.
	rec, err := store.DecodeRecord(v)
	if err == nil && t.ws != nil && rec.State == store.TxPrepared {
		// A lazy update reading a prepared record is a commit about to store
		// and release its writes (Store.Commit): size the write set for them.
		t.ws.expect(len(rec.KVs))
	}
	return rec, err == nil, err
}

func (t *txn) Records() ([]store.Record, error) {
	if t.recs == nil {
		return nil, nil
	}
	var out []store.Record
	err := t.recs.ForEach(func(_, v []byte) error {
		rec, err := store.DecodeRecord(v) // copies (see Record)
		if err == nil {
			out = append(out, rec)
		}
		return err
	})
	return out, err
}

func (t *txn) Set(kv store.KV) error {
	if err := checkKey(kv.Key); err != nil {
		return err
	}
	if err := t.create(); err != nil {
		return err
	}
	enc := store.EncodeValue(kv)
	if t.ws != nil {
		t.ws.setValue(kv, enc)
	}
	return t.data.Put(tagged(kv.Key), enc)
}

func (t *txn) Reserve(key string, txid []byte) error {
	if t.ws != nil {
		return errLazyWrite
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := t.create(); err != nil {
		return err
	}
	return t.res.Put(tagged(key), slices.Clone(txid))
}

func (t *txn) Release(key string) error {
	if t.res == nil {
		return nil
	}
	// One search: the cursor that finds the reservation deletes it.
	by := point(t.res, &t.resCur, tagged(key))
	if by == nil {
		return nil // nothing to release: the transaction stays untouched
	}
	if t.ws != nil {
		t.ws.released[key] = slices.Clone(by)
	}
	t.wrote = true
	return t.resCur.Delete()
}

func (t *txn) SetRecord(rec store.Record) error {
	if err := checkTxID(rec.TxID); err != nil {
		return err
	}
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return err
	}
	if err := t.create(); err != nil {
		return err
	}
	if t.ws != nil {
		t.ws.setRecord(rec, b)
	}
	return t.recs.Put(slices.Clone(rec.TxID), b)
}

func (t *txn) DeleteRecord(txid []byte) error {
	if t.ws != nil {
		return errLazyWrite
	}
	if t.recs == nil || len(txid) == 0 || point(t.recs, &t.recsCur, txid) == nil {
		return nil
	}
	t.wrote = true
	return t.recs.Delete(txid)
}

func (t *txn) ScanRange(prefix string, after *string, b store.Bound) ([]store.KV, error) {
	if t.data == nil {
		return nil, nil
	}
	var from []byte
	if after != nil {
		from = tagged(*after)
	}
	var out []store.KV
	p := tagged(prefix)
	g := b.Budget()
	c := t.data.Cursor()
	for k, v := c.Seek(store.SeekStart(p, from)); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		kv, err := store.DecodeValue(string(k[1:]), v)
		if err != nil {
			return nil, err
		}
		out = append(out, kv)
		if !g.Take(kv.Size()) {
			break
		}
	}
	return out, nil
}

func (t *txn) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	if t.recs == nil {
		return nil, nil
	}
	var from []byte
	if len(after) > 0 {
		from = after
	}
	var out []store.Record
	g := b.Budget()
	c := t.recs.Cursor()
	for k, v := c.Seek(store.SeekStart(nil, from)); k != nil; k, v = c.Next() {
		rec, err := store.DecodeRecord(v) // copies (see Record)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
		if !g.Take(rec.Size()) {
			break
		}
	}
	return out, nil
}
