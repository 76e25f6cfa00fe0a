package bolt

import (
	"os"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// TestJournalGivenUpAfterAWriteError: when a batch's journal write fails and
// the torn write cannot be cut off either, the journal can no longer be
// trusted. The lazy update whose entry it was fails (it was never answered, so
// nothing is lost), none of its writes is published, and the journal is given
// up: later lazy updates are durable Updates, which the file holds at the next
// Open.
func TestJournalGivenUpAfterAWriteError(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	b := mustOpen(t, path, Options{})
	prepared(t, b)

	// A read-only handle: the write fails, and so does the truncation.
	ro, err := os.Open(journalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	rw := b.journal.f
	defer rw.Close()
	b.journal.f = ro

	if err := commitLazily(b); err == nil {
		t.Fatal("the lazy update succeeded although its journal entry was not written")
	}
	if kv, reserved, state, _, _ := readAll(t, b); kv.Version != 0 || !reserved || state != store.TxPrepared {
		t.Fatalf("after the failed update: k@%d reserved=%v record %v, want nothing of it", kv.Version, reserved, state)
	}
	if b.journal.usable.Load() {
		t.Fatal("the journal is still used after a write and a truncation failed")
	}

	if err := commitLazily(b); err != nil {
		t.Fatalf("a lazy update once the journal was given up: %v", err)
	}
	if kv, reserved, state, _, _ := readAll(t, b); kv.Version != 1 || reserved || state != store.TxCommitted {
		t.Fatalf("after the durable update: k@%d reserved=%v record %v, want it applied", kv.Version, reserved, state)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	b = mustOpen(t, path, Options{})
	defer b.Close()
	if kv, reserved, state, _, _ := readAll(t, b); kv.Version != 1 || reserved || state != store.TxCommitted {
		t.Fatalf("reopened: k@%d reserved=%v record %v, want the update kept", kv.Version, reserved, state)
	}
}
