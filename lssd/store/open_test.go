package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
	"github.com/lssquorum/lss/lssd/store/memory"
	"github.com/lssquorum/lss/lssd/store/pebble"
)

// Every backend opens the same way, Open(ctx, Options), and an embedded one
// opens nothing once ctx is done (postgres and etcd are covered by their own
// tests against real servers).
func TestOpenHonoursItsContext(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	for name, open := range map[string]func(context.Context) (store.Backend, error){
		"memory": func(ctx context.Context) (store.Backend, error) { return memory.Open(ctx, memory.Options{}) },
		"bolt": func(ctx context.Context) (store.Backend, error) {
			return bolt.Open(ctx, bolt.Options{Path: filepath.Join(dir, "lss.db")})
		},
		"pebble": func(ctx context.Context) (store.Backend, error) {
			return pebble.Open(ctx, pebble.Options{Dir: filepath.Join(dir, "pebble")})
		},
	} {
		if b, err := open(done); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Open with a done context: %v, want context.Canceled", name, err)
			if err == nil {
				b.Close()
			}
		}
		b, err := open(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
	}
}
