package pebble_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/pebble"
)

// crashEnv is a Store on a Pebble database on a crashable in-memory file system,
// so a test can take the state a machine crash would leave: only what was synced.
type crashEnv struct {
	t      *testing.T
	fs     *vfs.MemFS
	b      *pebble.Backend
	s      *store.Store
	client []byte
}

const crashDir = "db"

func newCrashEnv(t *testing.T) *crashEnv {
	t.Helper()
	fs := vfs.NewCrashableMem()
	b, err := pebble.Open(context.Background(), pebble.Options{Dir: crashDir, FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &crashEnv{t: t, fs: fs, b: b, s: store.New(b, store.Options{}), client: []byte("client")}
}

// afterCrash opens what a machine crash now would leave on disk: the synced data
// and none of the unsynced.
func (e *crashEnv) afterCrash() *store.Store {
	e.t.Helper()
	b, err := pebble.Open(context.Background(), pebble.Options{Dir: crashDir, FS: e.fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})})
	if err != nil {
		e.t.Fatalf("open after crash: %v", err)
	}
	e.t.Cleanup(func() { b.Close() })
	return store.New(b, store.Options{})
}

func (e *crashEnv) put(s *store.Store, kvs ...store.KV) {
	e.t.Helper()
	if conflicts, err := s.Put(context.Background(), e.client, kvs); err != nil || len(conflicts) > 0 {
		e.t.Fatalf("Put: %v, conflicts %v", err, conflicts)
	}
}

// want requires s to hold exactly kvs (key@version=value), txid in state, and
// the given keys reserved by txid.
func (e *crashEnv) want(s *store.Store, txid []byte, state store.TxState, reserved []string, kvs ...store.KV) {
	e.t.Helper()
	ctx := context.Background()
	got, err := s.Get(ctx, e.client, "")
	if err != nil {
		e.t.Fatal(err)
	}
	if len(got) != len(kvs) {
		e.t.Fatalf("holds %v, want %v", got, kvs)
	}
	for i := range got {
		if got[i].Key != kvs[i].Key || got[i].Version != kvs[i].Version || !bytes.Equal(got[i].Value, kvs[i].Value) {
			e.t.Fatalf("holds %v, want %v", got, kvs)
		}
	}
	recs, err := s.Transactions(ctx, e.client)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(recs) != 1 || !bytes.Equal(recs[0].TxID, txid) || recs[0].State != state {
		e.t.Fatalf("records %v, want %x %v", recs, txid, state)
	}
	// A reserved key refuses a Put at its next version with the reservation named.
	for _, k := range reserved {
		next := int64(0)
		for _, kv := range got {
			if kv.Key == k {
				next = kv.Version + 1
			}
		}
		conflicts, err := s.Put(ctx, e.client, []store.KV{{Key: k, Version: next, Value: []byte("probe")}})
		if err != nil || len(conflicts) != 1 || !bytes.Equal(conflicts[0].ReservedBy, txid) {
			e.t.Fatalf("Put of reserved %q at %d = %v, %v; want a conflict reserved by %x", k, next, conflicts, err, txid)
		}
	}
}

func kv(k string, version int64, v string) store.KV {
	return store.KV{Key: k, Version: version, Value: []byte(v)}
}

// TestCrashLosesOnlyTheLazyCommit checks the reasoning behind lazy commits on a
// real crash image: a machine crash right after a Commit can lose the commit, and
// leaves the transaction exactly as prepared (the synced prepare survives, keys
// still reserved, old data intact), which a second Commit then settles.
func TestCrashLosesOnlyTheLazyCommit(t *testing.T) {
	e := newCrashEnv(t)
	ctx := context.Background()
	txid := bytes.Repeat([]byte{7}, 32)
	e.put(e.s, kv("a", 0, "A"))
	if state, conflicts, err := e.s.Prepare(ctx, e.client, txid, []store.KV{kv("a", 1, "A'"), kv("b", 0, "B")}); err != nil || len(conflicts) > 0 || state != store.TxPrepared {
		t.Fatalf("Prepare = %v, %v, %v", state, conflicts, err)
	}
	if err := e.s.Commit(ctx, e.client, txid, [][]byte{[]byte("proof a"), []byte("proof b")}); err != nil {
		t.Fatal(err)
	}
	// The running server sees the commit at once.
	e.want(e.s, txid, store.TxCommitted, nil, kv("a", 1, "A'"), kv("b", 0, "B"))

	crashed := e.afterCrash()
	e.want(crashed, txid, store.TxPrepared, []string{"a", "b"}, kv("a", 0, "A"))
	if err := crashed.Commit(ctx, e.client, txid, [][]byte{[]byte("proof a"), []byte("proof b")}); err != nil {
		t.Fatalf("Commit after the crash: %v", err)
	}
	e.want(crashed, txid, store.TxCommitted, nil, kv("a", 1, "A'"), kv("b", 0, "B"))
}

// TestSyncedUpdateMakesLazyCommitDurable checks the ordering rule of
// store.LazyUpdater: once a later synced update is durable, so is the lazy commit
// before it, even when the later update is another client's.
func TestSyncedUpdateMakesLazyCommitDurable(t *testing.T) {
	e := newCrashEnv(t)
	ctx := context.Background()
	txid := bytes.Repeat([]byte{7}, 32)
	if _, _, err := e.s.Prepare(ctx, e.client, txid, []store.KV{kv("a", 0, "A")}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Commit(ctx, e.client, txid, [][]byte{[]byte("proof a")}); err != nil {
		t.Fatal(err)
	}
	// A synced put of another client's key.
	if conflicts, err := e.s.Put(ctx, []byte("other"), []store.KV{kv("x", 0, "X")}); err != nil || len(conflicts) > 0 {
		t.Fatalf("Put: %v, %v", conflicts, err)
	}
	e.want(e.afterCrash(), txid, store.TxCommitted, nil, kv("a", 0, "A"))

	// And a synced put built on the committed version survives with it.
	e.put(e.s, kv("a", 1, "A'"))
	e.want(e.afterCrash(), txid, store.TxCommitted, nil, kv("a", 1, "A'"))
}

// TestSyncedWritesSurviveCrash checks that every update other than a commit is on
// disk when it returns: a put, a prepare, an abort and a fence.
func TestSyncedWritesSurviveCrash(t *testing.T) {
	e := newCrashEnv(t)
	ctx := context.Background()
	aborted, fenced := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	e.put(e.s, kv("a", 0, "A"))
	if _, _, err := e.s.Prepare(ctx, e.client, aborted, []store.KV{kv("a", 1, "A'")}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Abort(ctx, e.client, aborted); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Fence(ctx, e.client, fenced); err != nil {
		t.Fatal(err)
	}
	crashed := e.afterCrash()
	recs, err := crashed.Transactions(ctx, e.client)
	if err != nil || len(recs) != 2 || recs[0].State != store.TxAborted || recs[1].State != store.TxAborted {
		t.Fatalf("records after crash = %v, %v; want the aborted and the fenced txid", recs, err)
	}
	// The key is free again and still at its put version.
	e.put(crashed, kv("a", 1, "A''"))
	// The fence still refuses a late prepare.
	if state, _, err := crashed.Prepare(ctx, e.client, fenced, []store.KV{kv("b", 0, "B")}); err != nil || state != store.TxAborted {
		t.Fatalf("Prepare of the fenced txid after crash = %v, %v; want aborted", state, err)
	}
}

// TestCloseMakesLazyCommitDurable checks what Backend.Close promises: a commit
// written lazily before Close is on disk after it, with no synced write after it
// (a server stopped right after answering a Commit keeps it).
func TestCloseMakesLazyCommitDurable(t *testing.T) {
	e := newCrashEnv(t)
	ctx := context.Background()
	txid := bytes.Repeat([]byte{7}, 32)
	if _, _, err := e.s.Prepare(ctx, e.client, txid, []store.KV{kv("a", 0, "A")}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Commit(ctx, e.client, txid, [][]byte{[]byte("proof a")}); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	e.want(e.afterCrash(), txid, store.TxCommitted, nil, kv("a", 0, "A"))
}

// TestRestoreSurvivesCrash checks that a Restore, the write recovery makes to
// repair a provider, is synced like a Put: recovery counts it once answered.
func TestRestoreSurvivesCrash(t *testing.T) {
	e := newCrashEnv(t)
	ctx := context.Background()
	e.put(e.s, kv("a", 0, "A"))
	txid := bytes.Repeat([]byte{3}, 32)
	restored := []store.KV{{Key: "a", Version: 4, Value: []byte("A4"), TxID: txid, Proof: []byte("p")}, kv("b", 2, "B2")}
	if applied, _, err := e.s.Restore(ctx, e.client, restored); err != nil || len(applied) != 2 {
		t.Fatalf("Restore = %v, %v; want both applied", applied, err)
	}
	got, err := e.afterCrash().Get(ctx, e.client, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Version != 4 || !bytes.Equal(got[0].TxID, txid) || got[1].Version != 2 {
		t.Fatalf("after a crash the store holds %v; want the restored a@4 (txid %x) and b@2", got, txid)
	}
}
