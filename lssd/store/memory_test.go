package store_test

import (
	"context"
	"testing"

	"github.com/lssquorum/lss/lssd/store/memory"
)

// newMemory opens an empty memory backend, which fails only on a done context.
func newMemory(t testing.TB) *memory.Backend {
	t.Helper()
	b, err := memory.Open(context.Background(), memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
