package bolt

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

// crashChildEnv, when set to a bolt file's path, makes TestLazyCommitSurvivesKill
// the child process that commits lazily and waits to be killed; crashNoJournalEnv
// makes the child write no journal entries.
const (
	crashChildEnv     = "LSS_BOLT_CRASH_CHILD"
	crashNoJournalEnv = "LSS_BOLT_CRASH_NO_JOURNAL"
)

// TestLazyCommitSurvivesKill kills (SIGKILL) a process whose lazy commit was
// answered while its batch's bolt commit is held back: the reopened store has
// the transaction committed, with its data, from the journal. Without the
// journal the same kill leaves it prepared, which shows the test can fail.
func TestLazyCommitSurvivesKill(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	t.Parallel()
	for _, withJournal := range []bool{true, false} {
		path := tempPath(t)
		killAfterAck(t, path, withJournal)
		b := mustOpen(t, path, Options{})
		kv, reserved, state, _, _ := readAll(t, b)
		committed := kv.Version == 1 && string(kv.Value) == "new" && !reserved && state == store.TxCommitted
		// The journal carries the value in the stored layout, txid and proof too.
		certified := bytes.Equal(kv.TxID, lazyTxID) && string(kv.Proof) == "p"
		switch {
		case withJournal && (!committed || !certified):
			t.Fatalf("after kill -9: k@%d %q txid %x proof %q reserved=%v record %v; want the acknowledged commit",
				kv.Version, kv.Value, kv.TxID, kv.Proof, reserved, state)
		case !withJournal && (kv.Version != 0 || !reserved || state != store.TxPrepared):
			t.Fatalf("without the journal, after kill -9: k@%d reserved=%v record %v; want it still prepared", kv.Version, reserved, state)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// killAfterAck runs the child on path, waits for its "acked" and kills it.
func killAfterAck(t *testing.T, path string, withJournal bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLazyCommitSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	if !withJournal {
		cmd.Env = append(cmd.Env, crashNoJournalEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "acked" {
				acked <- true
				return
			}
		}
		acked <- false
	}()
	select {
	case ok := <-acked:
		if !ok {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatal("child ended without acknowledging its commit")
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("child did not acknowledge its commit within 30s")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// crashChild prepares on path, commits lazily with the bolt commit held back,
// prints "acked" and waits to be killed.
func crashChild(path string) {
	b, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := b.Update(context.Background(), client, func(tx store.Txn) error {
		if err := tx.Set(store.KV{Key: "k", Value: []byte("old")}); err != nil {
			return err
		}
		if err := tx.Reserve("k", lazyTxID); err != nil {
			return err
		}
		return tx.SetRecord(store.Record{TxID: lazyTxID, State: store.TxPrepared,
			KVs: []store.KV{{Key: "k", Version: 1, Value: []byte("new")}}})
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	b.journal.skip = os.Getenv(crashNoJournalEnv) != ""
	b.hold = time.Millisecond
	b.beforeCommit = func() error { time.Sleep(time.Minute); return nil } // the kill comes first
	if err := commitLazily(b); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("acked")
	time.Sleep(time.Minute)
	os.Exit(3)
}

// commitSet is the write set of commitLazily.
func commitSet() *writeSet {
	ws := newWriteSet()
	ws.data["k"] = store.KV{Key: "k", Version: 1, Value: []byte("new"), TxID: lazyTxID, Proof: []byte("p")}
	ws.released["k"] = lazyTxID
	ws.recs[string(lazyTxID)] = store.Record{TxID: lazyTxID, State: store.TxCommitted}
	return ws
}

func writeJournal(t *testing.T, path string, raw []byte) {
	t.Helper()
	if err := os.WriteFile(journalPath(path), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func journalSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(journalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestJournalReplay replays a journal by hand: the commit is applied once
// though it is there twice, a stale entry (an older value, a record back to
// prepared, a release for another txid) changes nothing, a torn last frame is
// ignored, and the journal is empty afterwards. Entries the file holds already
// (by the stored sequence) are skipped at the next Open.
func TestJournalReplay(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	b := mustOpen(t, path, Options{})
	prepared(t, b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	stale := newWriteSet()
	stale.data["k"] = store.KV{Key: "k", Version: 0, Value: []byte("stale")}
	stale.released["k"] = []byte("another txid")
	stale.recs[string(lazyTxID)] = store.Record{TxID: lazyTxID, State: store.TxPrepared}
	torn := newWriteSet()
	torn.data["torn"] = store.KV{Key: "torn", Value: []byte("x")}

	var raw []byte
	raw = appendFrame(raw, encodeEntry(entry{seq: 1, client: client, ws: commitSet()}))
	raw = appendFrame(raw, encodeEntry(entry{seq: 2, client: client, ws: commitSet()}))
	raw = appendFrame(raw, encodeEntry(entry{seq: 3, client: client, ws: stale}))
	tornFrame := appendFrame(nil, encodeEntry(entry{seq: 4, client: client, ws: torn}))
	raw = append(raw, tornFrame[:len(tornFrame)-1]...)
	writeJournal(t, path, raw)

	b = mustOpen(t, path, Options{})
	kv, reserved, state, scanned, records := readAll(t, b)
	if kv.Version != 1 || string(kv.Value) != "new" || reserved || state != store.TxCommitted || scanned != 1 || records != 1 {
		t.Fatalf("after replay: k@%d %q reserved=%v record %v, %d keys, %d records; want the commit once, no stale or torn entry",
			kv.Version, kv.Value, reserved, state, scanned, records)
	}
	if n := journalSize(t, path); n != 0 {
		t.Fatalf("journal is %d bytes after replay, want 0", n)
	}
	if err := b.Update(context.Background(), client, func(tx store.Txn) error { return tx.Reserve("r", lazyTxID) }); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// Sequence 3 is in the file now: an entry numbered so is skipped; one above
	// it is replayed.
	old := newWriteSet()
	old.data["old"] = store.KV{Key: "old", Value: []byte("x")}
	fresh := newWriteSet()
	fresh.data["fresh"] = store.KV{Key: "fresh", Value: []byte("y")}
	fresh.released["r"] = []byte("another txid")
	raw = appendFrame(nil, encodeEntry(entry{seq: 3, client: client, ws: old}))
	raw = appendFrame(raw, encodeEntry(entry{seq: 4, client: client, ws: fresh}))
	raw = append(raw, make([]byte, 64)...) // a zero-filled tail ends the journal too
	writeJournal(t, path, raw)
	b = mustOpen(t, path, Options{})
	got := keys(t, b)
	if _, ok := got["old"]; ok {
		t.Fatalf("entry at the stored sequence was replayed: %v", got)
	}
	if got["fresh"] != "y" {
		t.Fatalf("entry above the stored sequence was not replayed: %v", got)
	}
	err := b.View(context.Background(), client, func(r store.Reader) error {
		if by, ok, err := r.Reservation("r"); err != nil || !ok || !bytes.Equal(by, lazyTxID) {
			return fmt.Errorf("reservation of r: %q %v %v; want it kept for its own txid", by, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestJournalCorruptEntry refuses a journal frame whose CRC holds but whose
// entry does not decode, naming the journal.
func TestJournalCorruptEntry(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	writeJournal(t, path, appendFrame(nil, []byte("0123456789 not an entry")))
	b, err := Open(context.Background(), Options{Path: path})
	if err == nil {
		b.Close()
		t.Fatal("Open accepted a journal entry that does not decode")
	}
	if !strings.Contains(err.Error(), "commit journal") {
		t.Fatalf("error %q does not name the commit journal", err)
	}
}

// TestJournalWrittenBeforeTheAnswerAndTruncated checks that a lazy update's
// entry is in the journal file when UpdateLazy returns (its bolt commit held
// back), that the journal is truncated after the batch commits once over its
// trim size, and that a small one is emptied by Close.
func TestJournalWrittenBeforeTheAnswerAndTruncated(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	b := mustOpen(t, path, Options{})
	prepared(t, b)
	gate := make(chan struct{})
	b.beforeCommit = func() error { <-gate; return nil }
	b.hold = time.Millisecond
	b.journal.trim = 0

	done := make(chan error, 1)
	go func() { done <- commitLazily(b) }()
	if err := wait(t, "UpdateLazy with its bolt commit held back", done); err != nil {
		t.Fatal(err)
	}
	if n := journalSize(t, path); n == 0 {
		t.Fatal("journal is empty though the lazy update returned")
	}
	close(gate)
	if err := wait(t, "Update after the lazy one", update(context.Background(), b, set("other", "v"))); err != nil {
		t.Fatal(err)
	}
	if n := journalSize(t, path); n != 0 {
		t.Fatalf("journal is %d bytes after its batch committed, want 0", n)
	}

	// Above the trim size only: a small journal stays until Close.
	b.beforeCommit = nil
	b.journal.trim = journalTrim
	if err := b.UpdateLazy(context.Background(), client, set("lazy", "w")); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, "Update after the lazy one", update(context.Background(), b, set("other", "w"))); err != nil {
		t.Fatal(err)
	}
	if n := journalSize(t, path); n == 0 {
		t.Fatal("journal under its trim size was truncated, want it kept until Close")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := journalSize(t, path); n != 0 {
		t.Fatalf("journal is %d bytes after Close, want 0", n)
	}
}

// TestLazyRunsFirstInItsBatch queues an Update and then a lazy update behind a
// running batch: in the next batch the lazy one runs first, so its journal
// entry never rests on a write of the batch that a crash could lose.
func TestLazyRunsFirstInItsBatch(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	release, first := blockLeader(t, b)
	var order []string // written by the leader of the next batch only
	durable := update(context.Background(), b, func(tx store.Txn) error {
		order = append(order, "update")
		return tx.Set(store.KV{Key: "u", Value: []byte("u")})
	})
	waitQueued(t, b, 1)
	lazy := make(chan error, 1)
	go func() {
		lazy <- b.UpdateLazy(context.Background(), client, func(tx store.Txn) error {
			order = append(order, "lazy")
			return tx.Set(store.KV{Key: "l", Value: []byte("l")})
		})
	}()
	waitQueued(t, b, 2)
	release()
	for what, ch := range map[string]<-chan error{"blocked Update": first, "Update": durable, "UpdateLazy": lazy} {
		if err := wait(t, what, ch); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(order, []string{"lazy", "update"}) {
		t.Fatalf("batch ran %v, want the lazy update first", order)
	}
}
