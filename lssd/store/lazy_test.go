package store_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/memory"
)

// pathBackend is a memory backend that offers lazy updates and counts which path
// each transaction took.
type pathBackend struct {
	*memory.Backend
	mu           sync.Mutex
	synced, lazy int
}

func (b *pathBackend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	b.mu.Lock()
	b.synced++
	b.mu.Unlock()
	return b.Backend.Update(ctx, client, fn)
}

func (b *pathBackend) UpdateLazy(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	b.mu.Lock()
	b.lazy++
	b.mu.Unlock()
	return b.Backend.Update(ctx, client, fn)
}

// take returns the counts since the last call.
func (b *pathBackend) take() (synced, lazy int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	synced, lazy = b.synced, b.lazy
	b.synced, b.lazy = 0, 0
	return synced, lazy
}

var _ store.LazyUpdater = (*pathBackend)(nil)

// TestLazyOnlyForCommit checks that Commit, and nothing else, takes the lazy path
// of a backend that has one: every other write must be durable when it returns.
func TestLazyOnlyForCommit(t *testing.T) {
	ctx := context.Background()
	b := &pathBackend{Backend: newMemory(t)}
	s := store.New(b, store.Options{})
	client := []byte("client")
	txid := bytes.Repeat([]byte{1}, 32)
	other := bytes.Repeat([]byte{2}, 32)
	fenced := bytes.Repeat([]byte{3}, 32)

	steps := []struct {
		name string
		run  func() error
		lazy bool
	}{
		{"Put", func() error { _, err := s.Put(ctx, client, []store.KV{{Key: "a", Value: []byte("A")}}); return err }, false},
		{"Prepare", func() error {
			_, _, err := s.Prepare(ctx, client, txid, []store.KV{{Key: "a", Version: 1, Value: []byte("A'")}})
			return err
		}, false},
		{"Commit", func() error { return s.Commit(ctx, client, txid, [][]byte{[]byte("proof")}) }, true},
		{"Commit again", func() error { return s.Commit(ctx, client, txid, [][]byte{[]byte("proof")}) }, true},
		{"Restore", func() error {
			_, _, err := s.Restore(ctx, client, []store.KV{{Key: "b", Version: 3, Value: []byte("B")}})
			return err
		}, false},
		{"Prepare other", func() error {
			_, _, err := s.Prepare(ctx, client, other, []store.KV{{Key: "c", Value: []byte("C")}})
			return err
		}, false},
		{"Abort", func() error { return s.Abort(ctx, client, other) }, false},
		{"Fence", func() error { _, err := s.Fence(ctx, client, fenced); return err }, false},
		{"Prune", func() error { _, err := s.Prune(ctx, client); return err }, false},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		synced, lazy := b.take()
		want := [2]int{1, 0}
		if st.lazy {
			want = [2]int{0, 1}
		}
		if got := [2]int{synced, lazy}; got != want {
			t.Errorf("%s: %d synced and %d lazy updates, want %d and %d", st.name, synced, lazy, want[0], want[1])
		}
	}
	kvs, err := s.Get(ctx, client, "a")
	if err != nil || len(kvs) != 1 || kvs[0].Version != 1 || string(kvs[0].Value) != "A'" {
		t.Fatalf("after the lazy commit, Get(a) = %v, %v; want a@1 = A'", kvs, err)
	}
}

// TestCommitWithoutLazyUpdater checks that a backend without the capability still
// commits, through its durable Update.
func TestCommitWithoutLazyUpdater(t *testing.T) {
	ctx := context.Background()
	s := store.New(newMemory(t), store.Options{})
	client := []byte("client")
	txid := bytes.Repeat([]byte{1}, 32)
	if _, _, err := s.Prepare(ctx, client, txid, []store.KV{{Key: "a", Value: []byte("A")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, client, txid, [][]byte{[]byte("proof")}); err != nil {
		t.Fatal(err)
	}
	kvs, err := s.Get(ctx, client, "")
	if err != nil || len(kvs) != 1 || string(kvs[0].Value) != "A" {
		t.Fatalf("Get = %v, %v; want a = A", kvs, err)
	}
}
