package pebble_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/pebble"
)

func TestOpenLocked(t *testing.T) {
	_, dir := open(t)
	start := time.Now()
	b, err := pebble.Open(context.Background(), pebble.Options{Dir: dir, LockTimeout: 200 * time.Millisecond})
	if err == nil {
		b.Close()
		t.Fatal("second Open of an open directory succeeded")
	}
	if waited := time.Since(start); waited < 200*time.Millisecond || waited > 5*time.Second {
		t.Errorf("second Open gave up after %v, want about the 200ms lock timeout", waited)
	}
	if !errors.Is(err, pebble.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

// writeForeign writes a Pebble database at dir holding key → value, as another
// program (or another layout) would.
func writeForeign(t *testing.T, dir string, key, value []byte) {
	t.Helper()
	db, err := pebbledb.Open(dir, &pebbledb.Options{Logger: silent{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(key, value, pebbledb.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesForeignDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "foreign")
	writeForeign(t, dir, []byte("someone else's"), []byte("data"))
	_, err := pebble.Open(context.Background(), pebble.Options{Dir: dir})
	if !errors.Is(err, pebble.ErrUnknownSchema) || !strings.Contains(err.Error(), "not written by lssd") {
		t.Fatalf("Open of a foreign database: %v, want ErrUnknownSchema saying so", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "newer")
	writeForeign(t, dir, []byte("\x00schema"), binary.BigEndian.AppendUint32(nil, 99))
	_, err := pebble.Open(context.Background(), pebble.Options{Dir: dir})
	if !errors.Is(err, pebble.ErrUnknownSchema) || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("Open of a newer schema: %v, want ErrUnknownSchema naming version 99", err)
	}
}

func TestClosed(t *testing.T) {
	b, _ := open(t)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	noop := func(store.Txn) error { return nil }
	if err := b.Update(ctx, []byte("c"), noop); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close: %v, want ErrClosed", err)
	}
	if err := b.UpdateLazy(ctx, []byte("c"), noop); !errors.Is(err, store.ErrClosed) {
		t.Errorf("UpdateLazy after Close: %v, want ErrClosed", err)
	}
	if err := b.View(ctx, []byte("c"), func(store.Reader) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close: %v, want ErrClosed", err)
	}
}

func TestBadClientID(t *testing.T) {
	b, _ := open(t)
	ctx := context.Background()
	if err := b.Update(ctx, nil, func(store.Txn) error { return nil }); err == nil || !strings.Contains(err.Error(), "empty client id") {
		t.Errorf("Update with an empty client id: %v", err)
	}
	long := make([]byte, 1<<16)
	if err := b.View(ctx, long, func(store.Reader) error { return nil }); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("View with a 64 KiB client id: %v", err)
	}
}

// TestClientPrefixesDisjoint checks the layout's length prefix: a client id that
// is a prefix of another's never sees the other's keys, even with key bytes that
// would continue its id.
func TestClientPrefixesDisjoint(t *testing.T) {
	b, _ := open(t)
	s := store.New(b, store.Options{})
	ctx := context.Background()
	if c, err := s.Put(ctx, []byte("ab"), []store.KV{{Key: "x", Value: []byte("ab's")}}); err != nil || len(c) > 0 {
		t.Fatal(c, err)
	}
	if c, err := s.Put(ctx, []byte("a"), []store.KV{{Key: "y", Value: []byte("a's")}}); err != nil || len(c) > 0 {
		t.Fatal(c, err)
	}
	for client, want := range map[string]string{"a": "a's", "ab": "ab's"} {
		kvs, err := s.Get(ctx, []byte(client), "")
		if err != nil || len(kvs) != 1 || string(kvs[0].Value) != want {
			t.Errorf("client %q reads %v, %v; want only %q", client, kvs, err, want)
		}
	}
}

// silent drops Pebble's logs.
type silent struct{}

func (silent) Infof(string, ...any)              {}
func (silent) Errorf(string, ...any)             {}
func (silent) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
