package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

func tempPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "lss.db")
}

func mustOpen(t *testing.T, path string, opts Options) *Backend {
	t.Helper()
	opts.Path = path
	b, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestOpenLockedFile(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	first := mustOpen(t, path, Options{})
	start := time.Now()
	second, err := Open(context.Background(), Options{Path: path, LockTimeout: 100 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("a second Open of a held file succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "locked by another lssd?") ||
		!strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v; want ErrLocked naming the file", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("Open waited %v for the lock", waited)
	}
	// Once the holder lets go, the file opens.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, path, Options{LockTimeout: time.Second})
}

// writeRaw creates a bolt file directly, as another program (or a future lssd)
// would.
func writeRaw(t *testing.T, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenUnknownSchema(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fill func(tx *bbolt.Tx) error
		want string
	}{
		{"newer version", func(tx *bbolt.Tx) error {
			meta, err := tx.CreateBucket(metaBucket)
			if err != nil {
				return err
			}
			return meta.Put(schemaKey, binary.BigEndian.AppendUint32(nil, schemaVersion+1))
		}, "schema version 2; this lssd reads version 1"},
		{"garbled version", func(tx *bbolt.Tx) error {
			meta, err := tx.CreateBucket(metaBucket)
			if err != nil {
				return err
			}
			return meta.Put(schemaKey, []byte("one"))
		}, "schema version is 3 bytes"},
		{"foreign file", func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket([]byte("somebody else's"))
			return err
		}, "not written by lssd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			writeRaw(t, path, tc.fill)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Open(context.Background(), Options{Path: path})
			if err == nil {
				b.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrUnknownSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want ErrUnknownSchema saying %q", err, tc.want)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(before) != string(after) {
				t.Fatal("a refused Open changed the file")
			}
		})
	}
}

func TestOpenNotABoltFile(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), Options{Path: path})
	if err == nil {
		b.Close()
		t.Fatal("Open of a text file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v; want it to name the file", err)
	}
}

func TestOpenKeepsSchemaAndFileMode(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	b := mustOpen(t, path, Options{})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("file mode %v, want 0600", mode)
	}
	mustOpen(t, path, Options{}) // the version it wrote is the version it reads
}

func TestClosedBackend(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if err := b.Update(ctx, []byte("c"), func(store.Txn) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Update after Close: %v, want ErrClosed", err)
	}
	if err := b.View(ctx, []byte("c"), func(store.Reader) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("View after Close: %v, want ErrClosed", err)
	}
}

func TestBadClientAndKey(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	ctx := context.Background()
	if err := b.Update(ctx, nil, func(store.Txn) error { return nil }); err == nil || !strings.Contains(err.Error(), "empty client id") {
		t.Fatalf("Update with an empty client id: %v", err)
	}
	if err := b.View(ctx, []byte{}, func(store.Reader) error { return nil }); err == nil {
		t.Fatal("View with an empty client id succeeded")
	}
	s := store.New(b, store.Options{})
	long := strings.Repeat("k", maxKeyLen+1)
	_, err := s.Put(ctx, []byte("c"), []store.KV{{Key: "a"}, {Key: long}})
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Put of a %d-byte key: %v", len(long), err)
	}
	if kvs, err := s.Get(ctx, []byte("c"), ""); err != nil || len(kvs) != 0 {
		t.Fatalf("after a refused Put: %d keys, %v; want none", len(kvs), err)
	}
	// The longest key bolt can hold is fine.
	if _, err := s.Put(ctx, []byte("c"), []store.KV{{Key: long[1:]}}); err != nil {
		t.Fatalf("Put of a %d-byte key: %v", maxKeyLen, err)
	}
}

// TestStatAgreesWithGet: the write transaction's Stat (store.Stater, used by
// the version rule and the quota counts) reads what Get reads, without the
// value.
func TestStatAgreesWithGet(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	err := b.Update(context.Background(), []byte("c"), func(tx store.Txn) error {
		st, ok := tx.(store.Stater)
		if !ok {
			t.Fatal("bolt's write transaction does not implement store.Stater")
		}
		if _, _, found, err := st.Stat("absent"); found || err != nil {
			t.Fatalf("Stat of a key in a client with nothing = %v, %v", found, err)
		}
		for _, kv := range []store.KV{
			{Key: "plain", Version: 4, Value: []byte("value")},
			{Key: "tx", Version: 2, Value: bytes.Repeat([]byte("x"), 3000), TxID: bytes.Repeat([]byte{1}, 32), Proof: []byte("proof")},
			{Key: "", Version: 0},
		} {
			if err := tx.Set(kv); err != nil {
				return err
			}
			version, n, found, err := st.Stat(kv.Key)
			got, _, _ := tx.Get(kv.Key)
			if err != nil || !found || version != kv.Version || n != len(kv.Value) || version != got.Version || n != len(got.Value) {
				t.Fatalf("Stat(%q) = %d, %d, %v, %v; stored version %d with %d bytes", kv.Key, version, n, found, err, kv.Version, len(kv.Value))
			}
		}
		if _, _, found, err := st.Stat("absent"); found || err != nil {
			t.Fatalf("Stat of an absent key = %v, %v", found, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
