package pebble_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/pebble"
	"github.com/lssquorum/lss/lssd/store/storetest"
)

// open opens a fresh database in a test directory and closes it when the test
// ends.
func open(t *testing.T) (*pebble.Backend, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pebble")
	b, err := pebble.Open(context.Background(), pebble.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, dir
}

func TestConformance(t *testing.T) {
	var dirs sync.Map // store.Backend → its directory; subtests run in parallel
	storetest.Run(t, storetest.Factory{
		Open: func(t *testing.T) store.Backend {
			b, dir := open(t)
			dirs.Store(b, dir)
			return b
		},
		Reopen: func(t *testing.T, old store.Backend) store.Backend {
			dir, _ := dirs.Load(old)
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := pebble.Open(context.Background(), pebble.Options{Dir: dir.(string)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		},
	})
}
