package bolt_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
	"github.com/lssquorum/lss/lssd/store/storetest"
)

// open opens a fresh file in a test directory and closes it when the test ends.
func open(t *testing.T, opts bolt.Options) (*bolt.Backend, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lss.db")
	opts.Path = path
	b, err := bolt.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, path
}

func factory(opts bolt.Options) storetest.Factory {
	var paths sync.Map // store.Backend → its file; subtests run in parallel
	return storetest.Factory{
		Open: func(t *testing.T) store.Backend {
			b, path := open(t, opts)
			paths.Store(b, path)
			return b
		},
		Reopen: func(t *testing.T, old store.Backend) store.Backend {
			path, _ := paths.Load(old)
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}
			reopen := opts // a copy: subtests run in parallel
			reopen.Path = path.(string)
			b, err := bolt.Open(context.Background(), reopen)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		},
	}
}

func TestConformance(t *testing.T) {
	t.Run("GroupCommit", func(t *testing.T) { storetest.Run(t, factory(bolt.Options{})) })
	t.Run("NoGroupCommit", func(t *testing.T) { storetest.Run(t, factory(bolt.Options{NoGroupCommit: true})) })
}
