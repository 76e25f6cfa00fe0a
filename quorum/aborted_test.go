package quorum

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The aborts a client decided survive in its watermark file: saves merge them
// (the earliest time of each wins), a reset of every key keeps them, and
// whatever is older than abortMemory is dropped at the next save.
func TestWatermarkFileKeepsTheAborts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := OpenWatermarkFile(filepath.Join(t.TempDir(), "wm.json"), []byte{0x02, 0xaa})
	now := time.Now().Unix()
	old := time.Now().Add(-abortMemory - time.Hour).Unix()
	if err := f.Save(ctx, Watermarks{Aborted: map[string]int64{"0a0b": now, "0c0d": now, "0e0f": old}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(ctx, Watermarks{Aborted: map[string]int64{"0a0b": now - 10, "0c0d": now + 10}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Reset(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, err := f.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"0a0b": now - 10, "0c0d": now}; !reflect.DeepEqual(got.Aborted, want) {
		t.Errorf("aborted %v, want %v", got.Aborted, want)
	}
}

// trimAborted forgets what is older than abortMemory and, past
// maxAbortMemory, the oldest.
func TestTrimAborted(t *testing.T) {
	t.Parallel()
	now := time.Now()
	m := map[string]int64{"old": now.Add(-abortMemory - time.Second).Unix(), "recent": now.Add(-abortMemory + time.Minute).Unix()}
	trimAborted(m, now)
	if _, ok := m["old"]; ok || len(m) != 1 {
		t.Fatalf("after trimming by age: %v", m)
	}
	m = map[string]int64{}
	for i := range maxAbortMemory + 5 {
		m[fmt.Sprintf("%06d", i)] = now.Unix() - int64(maxAbortMemory+5-i)
	}
	trimAborted(m, now)
	if len(m) != maxAbortMemory {
		t.Fatalf("%d aborts kept, want %d", len(m), maxAbortMemory)
	}
	for i := range 5 {
		if _, ok := m[fmt.Sprintf("%06d", i)]; ok {
			t.Errorf("abort %d, among the 5 oldest, was kept", i)
		}
	}
}

// A remembered abort decides a transaction whatever prepared views show; only
// a commit proof outranks it. The log marks what it was told as not saved.
func TestAbortMemoryDecides(t *testing.T) {
	t.Parallel()
	txid := make([]byte, 16)
	txid[0] = 7
	var l abortLog
	if l.has(txid) {
		t.Fatal("an empty log has the txid")
	}
	l.remember(txid, time.Now())
	if !l.has(txid) {
		t.Fatal("the log lost the txid")
	}
	if d := l.takeDirty(); len(d) != 1 || d[hex.EncodeToString(txid)] == 0 {
		t.Fatalf("dirty %v, want the txid", d)
	}

	prepared := map[string]TxView{"p0": TxPrepared, "p1": TxPrepared, "p2": TxAborted}
	st := TxStatus{TxID: txid, N: 3, W: 2, Counted: []string{"p0", "p1", "p2"}, votes: map[string]txVote{}}
	for name, v := range prepared {
		st.votes[name] = txVote{View: v, SealOK: v == TxPrepared}
	}
	if d := st.decideFrom(prepared); d != DecidedCommit {
		t.Fatalf("by the records: %v, want commit (the scenario)", d)
	}
	st.AbortedHere = true
	if d := st.decideFrom(prepared); d != DecidedAbort {
		t.Errorf("remembered aborted: %v, want abort", d)
	}
	st.Proven = []string{"p0"}
	if d := st.decideFrom(prepared); d != DecidedCommit {
		t.Errorf("remembered aborted, with a commit proof: %v, want commit", d)
	}
}
