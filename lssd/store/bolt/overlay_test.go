package bolt

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

// TestOverlayReadsItsWrites checks that reads through an overlay merge its pending
// writes with the base, and that the base sees none of them until apply.
func TestOverlayReadsItsWrites(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	ctx := context.Background()
	rec := func(id string, state store.TxState) store.Record {
		return store.Record{TxID: []byte(id), State: state, KVs: []store.KV{{Key: id, Value: []byte(id)}}}
	}
	err := b.Update(ctx, client, func(tx store.Txn) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := tx.Set(store.KV{Key: k, Value: []byte("base")}); err != nil {
				return err
			}
			if err := tx.Reserve(k, []byte("txid-"+k)); err != nil {
				return err
			}
		}
		for _, id := range []string{"t1", "t3", "t5"} {
			if err := tx.SetRecord(rec(id, store.TxPrepared)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	err = b.db.Update(func(btx *bbolt.Tx) error {
		base := newTxn(btx, client)
		o := newOverlay(base)
		steps := []error{
			o.Set(store.KV{Key: "b", Version: 1, Value: []byte("over")}),
			o.Set(store.KV{Key: "ab", Value: []byte("over")}),
			o.Set(store.KV{Key: "d", Value: []byte("over")}),
			o.Release("a"),
			o.Reserve("d", []byte("txid-d")),
			o.DeleteRecord([]byte("t3")),
			o.SetRecord(rec("t2", store.TxAborted)),
			o.SetRecord(rec("t5", store.TxCommitted)),
		}
		for i, err := range steps {
			if err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		kvs, err := o.Scan("")
		if err != nil {
			return err
		}
		if got := fmt.Sprint(kvs); got != "[{a 0 [98 97 115 101]} {ab 0 [111 118 101 114]} {b 1 [111 118 101 114]} {c 0 [98 97 115 101]} {d 0 [111 118 101 114]}]" {
			return fmt.Errorf("Scan(\"\") = %s", got)
		}
		if kvs, _ := o.Scan("a"); len(kvs) != 2 || kvs[1].Key != "ab" {
			return fmt.Errorf("Scan(a) = %v", kvs)
		}
		if kv, ok, _ := o.Get("b"); !ok || kv.Version != 1 {
			return fmt.Errorf("Get(b) = %v, %v", kv, ok)
		}
		if _, ok, _ := o.Reservation("a"); ok {
			return fmt.Errorf("released a still reserved")
		}
		if id, ok, _ := o.Reservation("d"); !ok || string(id) != "txid-d" {
			return fmt.Errorf("Reservation(d) = %q, %v", id, ok)
		}
		if id, ok, _ := o.Reservation("c"); !ok || string(id) != "txid-c" {
			return fmt.Errorf("Reservation(c) = %q, %v", id, ok)
		}
		recs, err := o.Records()
		if err != nil {
			return err
		}
		var got []string
		for _, r := range recs {
			got = append(got, fmt.Sprintf("%s:%v", r.TxID, r.State))
		}
		if fmt.Sprint(got) != "[t1:prepared t2:aborted t5:committed]" {
			return fmt.Errorf("Records = %v", got)
		}
		if _, ok, _ := o.Record([]byte("t3")); ok {
			return fmt.Errorf("deleted record t3 still there")
		}
		// None of it has reached the bolt transaction yet.
		if kvs, _ := base.Scan(""); len(kvs) != 3 || !bytes.Equal(kvs[1].Value, []byte("base")) {
			return fmt.Errorf("base Scan before apply = %v", kvs)
		}
		if err := o.apply(); err != nil {
			return err
		}
		if kvs, _ := base.Scan(""); len(kvs) != 5 {
			return fmt.Errorf("base Scan after apply = %v", kvs)
		}
		if recs, _ := base.Records(); len(recs) != 3 || recs[2].State != store.TxCommitted {
			return fmt.Errorf("base Records after apply = %v", recs)
		}
		if _, ok, _ := base.Reservation("a"); ok {
			return fmt.Errorf("a still reserved after apply")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
