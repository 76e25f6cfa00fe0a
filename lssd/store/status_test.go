package store_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
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

// countingBackend counts the record reads made through it.
type countingBackend struct {
	store.Backend
	ranges, points atomic.Int64
}

func (b *countingBackend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	return b.Backend.View(ctx, client, func(r store.Reader) error { return fn(countingReader{r, b}) })
}

type countingReader struct {
	store.Reader
	b *countingBackend
}

func (r countingReader) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	r.b.ranges.Add(1)
	return r.Reader.RecordsRange(after, b)
}

func (r countingReader) Record(txid []byte) (store.Record, bool, error) {
	r.b.points.Add(1)
	return r.Reader.Record(txid)
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
	b := &countingBackend{Backend: mem}
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
		b.ranges.Store(0)
		b.points.Store(0)
		recs, more, err := s.PendingTransactionsPage(ctx, client, nil, 2, 0)
		if err != nil || len(recs) != 1 || !bytes.Equal(recs[0].TxID, pending) || more {
			t.Fatalf("%s: PendingTransactionsPage = %d records, more %v, %v; want the prepared one, no more", what, len(recs), more, err)
		}
	}
	page("listed")
	if r, p := b.ranges.Load(), b.points.Load(); r != 0 || p != 2 {
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
	if n := b.ranges.Load(); n == 0 || n > 16 {
		t.Fatalf("%d ranged reads to pass %d decided records, want a few", n, decided)
	}
}
