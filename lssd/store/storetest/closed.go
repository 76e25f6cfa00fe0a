package storetest

import (
	"errors"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// testClosed checks that after Close every operation fails with
// store.ErrClosed, on the backend itself and through the Store, so that a
// server shutting down answers one recognizable error whichever database it
// runs on.
func testClosed(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("a", 0, "A"))
	if err := e.b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ran := false
	if err := e.b.Update(ctx(t), e.client, func(store.Txn) error { ran = true; return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close: %v, want store.ErrClosed", err)
	}
	if err := e.b.View(ctx(t), e.client, func(store.Reader) error { ran = true; return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close: %v, want store.ErrClosed", err)
	}
	if ran {
		t.Error("a closed backend ran a transaction function")
	}
	if _, err := e.s.Put(ctx(t), e.client, []store.KV{kv("a", 1, "A'")}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Store.Put after Close: %v, want store.ErrClosed", err)
	}
	if _, err := e.s.Get(ctx(t), e.client, ""); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Store.Get after Close: %v, want store.ErrClosed", err)
	}
}
