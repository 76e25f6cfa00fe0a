package bolt

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

// errCommitFailed is what the beforeCommit hook returns to fail a batch's bolt
// commit.
var errCommitFailed = errors.New("bolt commit failed (test)")

// failFirstCommit makes the first batch that reaches beforeCommit fail its bolt
// commit; later batches commit. It returns how many batches reached the hook.
func failFirstCommit(b *Backend) *atomic.Int32 {
	var calls atomic.Int32
	b.beforeCommit = func() error {
		if calls.Add(1) == 1 {
			return errCommitFailed
		}
		return nil
	}
	return &calls
}

// waitIdle waits until no batch is being committed and none is queued: the
// last batch's commit, its journal cut or trim, and the overlay's cleanup are
// over (the leader does them all before it hands over).
func waitIdle(t *testing.T, b *Backend) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		idle := !b.leading && len(b.queue) == 0
		b.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the batch in progress did not end within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// fileState reads k and lazyTxID from the bolt file itself, under no overlay.
func fileState(t *testing.T, b *Backend) (kv store.KV, reserved bool, state store.TxState) {
	t.Helper()
	err := b.db.View(func(tx *bbolt.Tx) error {
		var err error
		kv, reserved, state, err = stateOfK(newTxn(tx, client))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return kv, reserved, state
}

func overlayClients(b *Backend) int {
	b.overlay.mu.Lock()
	defer b.overlay.mu.Unlock()
	return len(b.overlay.byClient)
}

// crashCopy opens what a crash of b's process would leave on disk now: a copy
// of the bolt file and of its journal, taken without closing b (Close would
// empty the journal). Call it only while no bolt commit is being written.
func crashCopy(t *testing.T, path string) *Backend {
	t.Helper()
	copyPath := tempPath(t)
	for from, to := range map[string]string{path: copyPath, journalPath(path): journalPath(copyPath)} {
		raw, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return mustOpen(t, copyPath, Options{})
}

// stillPrepared fails the test unless k is at version 0, reserved, and
// lazyTxID prepared, as prepared left them.
func stillPrepared(t *testing.T, when string, kv store.KV, reserved bool, state store.TxState) {
	t.Helper()
	if kv.Version != 0 || string(kv.Value) != "old" || !reserved || state != store.TxPrepared {
		t.Fatalf("%s: k@%d %q reserved=%v record %v; want it still prepared (k@0 \"old\", reserved)",
			when, kv.Version, kv.Value, reserved, state)
	}
}

// committedState fails the test unless k holds the lazy commit's write.
func committedState(t *testing.T, when string, kv store.KV, reserved bool, state store.TxState) {
	t.Helper()
	if kv.Version != 1 || string(kv.Value) != "new" || reserved || state != store.TxCommitted {
		t.Fatalf("%s: k@%d %q reserved=%v record %v; want the lazy commit (k@1 \"new\", released, committed)",
			when, kv.Version, kv.Value, reserved, state)
	}
}

// TestLazyCommitLostWhenItsBoltCommitFails fails the bolt commit of a batch
// holding one lazy update, after the update was answered. The answer was
// success (it is given before the commit); then its writes are gone from every
// read and from the file, and cut off the journal, so a crash of the process
// does not bring them back. The journal stays in use: the commit tried again
// is answered, read, and replayed from the journal after a crash that comes
// before its bolt commit.
func TestLazyCommitLostWhenItsBoltCommitFails(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	b := mustOpen(t, path, Options{})
	prepared(t, b)
	b.hold = time.Millisecond
	hooked := failFirstCommit(b)

	// A lone lazy call goes through the batch path, so the hook runs for it.
	if err := commitLazily(b); err != nil {
		t.Fatalf("lazy update whose bolt commit fails later: %v; want success (it is answered before the commit)", err)
	}
	waitIdle(t, b)
	if n := hooked.Load(); n != 1 {
		t.Fatalf("the hook ran %d times for the lone lazy update's batch, want 1", n)
	}
	if n := overlayClients(b); n != 0 {
		t.Fatalf("overlay still holds %d clients' writes after their bolt commit failed", n)
	}
	kv, reserved, state, scanned, records := readAll(t, b)
	stillPrepared(t, "View after the failed commit", kv, reserved, state)
	if scanned != 1 || records != 1 {
		t.Fatalf("View after the failed commit: %d keys, %d records; want 1 and 1", scanned, records)
	}
	kv, reserved, state = fileState(t, b)
	stillPrepared(t, "file after the failed commit", kv, reserved, state)
	if n := journalSize(t, path); n != 0 {
		t.Fatalf("journal is %d bytes after its batch's bolt commit failed, want its entries cut off", n)
	}
	if !b.journal.usable.Load() {
		t.Fatalf("journal given up after a failed bolt commit (%v), want it cut and kept", b.journal.broken)
	}

	crashed := crashCopy(t, path)
	kv, reserved, state, _, _ = readAll(t, crashed)
	stillPrepared(t, "reopened after a crash following the failed commit", kv, reserved, state)
	if err := crashed.Close(); err != nil {
		t.Fatal(err)
	}

	// The commit tried again, its bolt commit held back until after the crash.
	gate := make(chan struct{})
	var opened sync.Once
	openGate := func() { opened.Do(func() { close(gate) }) }
	t.Cleanup(openGate) // before Close, which waits for the held commit, if the test fails
	b.beforeCommit = func() error { <-gate; return nil }
	if err := commitLazily(b); err != nil {
		t.Fatalf("lazy update tried again: %v", err)
	}
	kv, reserved, state, _, _ = readAll(t, b)
	committedState(t, "View of the commit tried again", kv, reserved, state)
	if n := journalSize(t, path); n == 0 {
		t.Fatal("journal is empty though the lazy update tried again was answered")
	}
	crashed = crashCopy(t, path)
	kv, reserved, state, _, _ = readAll(t, crashed)
	committedState(t, "reopened after a crash before the bolt commit of the commit tried again", kv, reserved, state)
	if err := crashed.Close(); err != nil {
		t.Fatal(err)
	}

	openGate()
	waitIdle(t, b)
	kv, reserved, state = fileState(t, b)
	committedState(t, "file after the commit tried again", kv, reserved, state)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = mustOpen(t, path, Options{})
	kv, reserved, state, _, _ = readAll(t, b)
	committedState(t, "reopened after Close", kv, reserved, state)
}

// TestDurableUpdateFailsWithItsLazyBatch fails the bolt commit of a batch
// holding a lazy update and a durable Update. The lazy one was answered with
// success before the commit; the durable one gets the commit's error, and
// neither leaves a write in reads, in the file, or (after a crash of the
// process) in the journal.
func TestDurableUpdateFailsWithItsLazyBatch(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	b := mustOpen(t, path, Options{})
	prepared(t, b)
	hooked := failFirstCommit(b)

	// The blocked Update commits alone (no hook); the two queued behind it
	// make the next batch.
	release, leader := blockLeader(t, b)
	lazy := make(chan error, 1)
	go func() { lazy <- commitLazily(b) }()
	waitQueued(t, b, 1)
	durable := update(context.Background(), b, func(tx store.Txn) error {
		if err := tx.Set(store.KV{Key: "u", Value: []byte("durable")}); err != nil {
			return err
		}
		return tx.SetRecord(store.Record{TxID: []byte("durable txid...."), State: store.TxPrepared})
	})
	waitQueued(t, b, 2)
	release()
	if err := wait(t, "blocked Update", leader); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, "lazy update", lazy); err != nil {
		t.Fatalf("lazy update in the failed batch: %v; want success (it is answered before the commit)", err)
	}
	if err := wait(t, "durable Update", durable); !errors.Is(err, errCommitFailed) {
		t.Fatalf("durable Update in the failed batch: %v; want the commit's error", err)
	}
	waitIdle(t, b)
	if n := hooked.Load(); n != 1 {
		t.Fatalf("the hook ran %d times, want once (the batch of the lazy and the durable update)", n)
	}

	check := func(when string, b *Backend) {
		t.Helper()
		kv, reserved, state, _, records := readAll(t, b)
		stillPrepared(t, when, kv, reserved, state)
		if got := keys(t, b); len(got) != 2 || got["k"] != "old" || got["leader"] != "L" {
			t.Fatalf("%s: stored %v, want only k and the blocked Update's key", when, got)
		}
		if records != 1 {
			t.Fatalf("%s: %d records, want only the prepared one", when, records)
		}
	}
	check("after the failed commit", b)
	if n := overlayClients(b); n != 0 {
		t.Fatalf("overlay still holds %d clients' writes after their bolt commit failed", n)
	}
	kv, reserved, state := fileState(t, b)
	stillPrepared(t, "file after the failed commit", kv, reserved, state)
	if n := journalSize(t, path); n != 0 {
		t.Fatalf("journal is %d bytes after its batch's bolt commit failed, want its entries cut off", n)
	}
	if !b.journal.usable.Load() {
		t.Fatalf("journal given up after a failed bolt commit (%v)", b.journal.broken)
	}
	check("reopened after a crash following the failed commit", crashCopy(t, path))

	// Both tried again: they commit.
	if err := commitLazily(b); err != nil {
		t.Fatalf("lazy update tried again: %v", err)
	}
	if err := b.Update(context.Background(), client, set("u", "durable")); err != nil {
		t.Fatalf("durable Update tried again: %v", err)
	}
	waitIdle(t, b)
	kv, reserved, state = fileState(t, b)
	committedState(t, "file after both tried again", kv, reserved, state)
	if got := keys(t, b); got["u"] != "durable" {
		t.Fatalf("stored %v after the durable Update tried again, want u", got)
	}
}
