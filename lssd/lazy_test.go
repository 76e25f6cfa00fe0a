package lssd

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/memory"
)

// lazyBackend is a memory backend with a lazy update that counts its uses.
type lazyBackend struct {
	*memory.Backend
	lazy atomic.Int64
}

func (b *lazyBackend) UpdateLazy(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	b.lazy.Add(1)
	return b.Backend.Update(ctx, client, fn)
}

// TestMetricsWrapperKeepsLazyCommits checks that the backend lssd serves from
// (wrapped to count storage errors) still gives Store.Commit the backend's lazy
// update: the wrapper used to hide it, so every commit was synced.
func TestMetricsWrapperKeepsLazyCommits(t *testing.T) {
	ctx := context.Background()
	inner := &lazyBackend{Backend: newMemory(t)}
	m := newMetrics()
	s := store.New(errorCountingBackend{Backend: inner, errs: m.storageErrors}, store.Options{})
	client, txid := []byte("client"), bytes.Repeat([]byte{7}, 32)
	if _, _, err := s.Prepare(ctx, client, txid, []store.KV{{Key: "k", Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if n := inner.lazy.Load(); n != 0 {
		t.Fatalf("Prepare took the lazy path %d times; it must be durable", n)
	}
	if err := s.Commit(ctx, client, txid, [][]byte{[]byte("proof")}); err != nil {
		t.Fatal(err)
	}
	if n := inner.lazy.Load(); n != 1 {
		t.Fatalf("Commit took the lazy path %d times through the metrics wrapper, want 1", n)
	}

	// Over a backend without one, the wrapper's UpdateLazy is a durable Update.
	plain := store.New(errorCountingBackend{Backend: newMemory(t), errs: m.storageErrors}, store.Options{})
	if _, _, err := plain.Prepare(ctx, client, txid, []store.KV{{Key: "k", Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if err := plain.Commit(ctx, client, txid, [][]byte{[]byte("proof")}); err != nil {
		t.Fatal(err)
	}
	kvs, err := plain.Get(ctx, client, "")
	if err != nil || len(kvs) != 1 || string(kvs[0].Value) != "v" {
		t.Fatalf("commit through the wrapper without a lazy backend: %v, %v", kvs, err)
	}
}
