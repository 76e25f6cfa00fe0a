package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/storetest"
)

// TestTransactionsOfRefusesStoreRecordIDs: the store's own per-client records
// (usage, generation) exist, yet asking for their ids is refused as malformed
// txids, so TransactionsOf can never hand them out.
func TestTransactionsOfRefusesStoreRecordIDs(t *testing.T) {
	ctx := context.Background()
	s := store.New(newMemory(t), store.Options{Quota: store.Quota{MaxKeys: 10}})
	client := []byte{2, 1}
	if _, err := s.Put(ctx, client, []store.KV{{Key: "k", Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range [][]byte{[]byte("\x00lss-usage"), []byte("\x00lss-generation")} {
		if !store.IsUsageTxID(id) {
			t.Fatalf("%q is no longer a store record id: update this test", id)
		}
		if recs, err := s.TransactionsOf(ctx, client, [][]byte{id}, 0); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("TransactionsOf(%q) = %d records, %v; want ErrInvalid", id, len(recs), err)
		}
	}
}

// TestPendingPageReadsPastDecidedInFewReads: a small page of the prepared
// records, behind thousands of decided ones, is read through the list of
// prepared txids (the usage record and the prepared record: two point reads,
// none of the decided records); and for a client whose usage record holds no
// list (written before it was kept), found in a few ranged reads (a networked
// database pays a round trip for each), not one per page's worth of decided
// records.
func TestPendingPageReadsPastDecidedInFewReads(t *testing.T) {
	ctx := context.Background()
	mem := newMemory(t)
	b := &storetest.CountingBackend{Backend: mem}
	s := store.New(b, store.Options{})
	client := []byte{2, 1}
	const decided = 3000
	for i := range decided {
		id := bytes.Repeat([]byte{0}, 32)
		id[0], id[1] = byte(i>>8), byte(i)
		if _, err := s.Fence(ctx, client, id); err != nil {
			t.Fatal(err)
		}
	}
	pending := bytes.Repeat([]byte{0xff}, 32)
	if state, _, err := s.Prepare(ctx, client, pending, []store.KV{{Key: "k", Value: []byte("v")}}); err != nil || state != store.TxPrepared {
		t.Fatalf("Prepare = %v, %v", state, err)
	}
	page := func(what string) {
		t.Helper()
		b.Reset()
		recs, more, err := s.PendingTransactionsPage(ctx, client, nil, 2, 0)
		if err != nil || len(recs) != 1 || !bytes.Equal(recs[0].TxID, pending) || more {
			t.Fatalf("%s: PendingTransactionsPage = %d records, more %v, %v; want the prepared one, no more", what, len(recs), more, err)
		}
	}
	page("listed")
	if r, p := b.Ranges.Load(), b.Points.Load(); r != 0 || p != 2 {
		t.Fatalf("listed: %d ranged and %d point reads, want none and 2 (the usage record, the prepared one)", r, p)
	}

	// The usage record as written before it listed the prepared txids.
	old := make([]byte, 24)
	old[23] = 1 // one pending
	if err := mem.Update(ctx, client, func(tx store.Txn) error {
		return tx.SetRecord(store.Record{TxID: []byte("\x00lss-usage"), State: store.TxCommitted, Updated: time.Unix(0, 0), Seal: old})
	}); err != nil {
		t.Fatal(err)
	}
	page("without the list")
	// 5, 10, 20, ... 1024, 1024: about a dozen reads; one per 5 records would be 600.
	if n := b.Ranges.Load(); n == 0 || n > 16 {
		t.Fatalf("%d ranged reads to pass %d decided records, want a few", n, decided)
	}
}
