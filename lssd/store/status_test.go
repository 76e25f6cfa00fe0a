package store_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

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

// countingBackend counts the RecordsRange reads made through it.
type countingBackend struct {
	store.Backend
	ranges atomic.Int64
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

// TestPendingPageReadsPastDecidedInFewReads: a small page of the prepared
// records, behind thousands of decided ones, is found in a few reads (a
// networked database pays a round trip for each), not one per page's worth of
// decided records.
func TestPendingPageReadsPastDecidedInFewReads(t *testing.T) {
	ctx := context.Background()
	b := &countingBackend{Backend: newMemory(t)}
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
	recs, more, err := s.PendingTransactionsPage(ctx, client, nil, 2, 0)
	if err != nil || len(recs) != 1 || !bytes.Equal(recs[0].TxID, pending) || more {
		t.Fatalf("PendingTransactionsPage = %d records, more %v, %v; want the prepared one, no more", len(recs), more, err)
	}
	// 5, 10, 20, ... 1024, 1024: about a dozen reads; one per 5 records would be 600.
	if n := b.ranges.Load(); n > 16 {
		t.Fatalf("%d reads to pass %d decided records", n, decided)
	}
}
