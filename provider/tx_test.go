package provider

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestTransactionLifecycle(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, d.Addr(), d.ServerID(), newKey(t), true)
	tx := txid(t)
	es := c.Seal([]KV{{"k2", 0, []byte("v2")}, {"k1", 0, []byte("v1")}})

	state, err := c.Prepare(ctxT(t), tx, Quorum{}, nil, es)
	if err != nil || state != TxPrepared {
		t.Fatalf("Prepare = %v, %v", state, err)
	}
	// Prepared again with the same writes: still prepared.
	if state, err := c.Prepare(ctxT(t), tx, Quorum{}, nil, es); err != nil || state != TxPrepared {
		t.Fatalf("second Prepare = %v, %v", state, err)
	}
	// Pending writes are invisible and reserve their keys.
	if got, err := c.Get(ctxT(t), ""); err != nil || len(got) != 0 {
		t.Errorf("Get while prepared = %v, %v", keysOf(got), err)
	}
	err = c.Put(ctxT(t), []KV{{"k1", 0, []byte("other")}})
	var ce *ConflictError
	if !errors.As(err, &ce) || len(ce.Conflicts) != 1 || !bytes.Equal(ce.Conflicts[0].ReservedBy, tx) || ce.Conflicts[0].Version != -1 {
		t.Errorf("Put on a reserved key: %v, want a conflict reserved by %x", err, tx)
	}
	_, err = c.Prepare(ctxT(t), txid(t), Quorum{}, nil, c.Seal([]KV{{"k2", 0, nil}}))
	if !errors.As(err, &ce) || !bytes.Equal(ce.Conflicts[0].ReservedBy, tx) {
		t.Errorf("Prepare on a reserved key: %v, want a conflict reserved by %x", err, tx)
	}

	txs, err := c.Status(ctxT(t))
	if err != nil || len(txs) != 1 {
		t.Fatalf("Status = %+v, %v", txs, err)
	}
	if !bytes.Equal(txs[0].TxID, tx) || txs[0].State != TxPrepared || len(txs[0].Entries) != 2 ||
		txs[0].Entries[0].Key != "k1" || !bytes.Equal(txs[0].Entries[0].Value, []byte("v1")) ||
		time.Since(txs[0].Updated) > time.Minute {
		t.Errorf("Status transaction = %+v", txs[0])
	}

	if err := c.Commit(ctxT(t), tx, c.CommitProofs(tx, es)); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := c.Commit(ctxT(t), tx, c.CommitProofs(tx, es)); err != nil {
		t.Errorf("second Commit: %v", err)
	}
	got, err := c.Get(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, KV{"k1", 0, []byte("v1")}, KV{"k2", 0, []byte("v2")})
	if state, err := c.Prepare(ctxT(t), tx, Quorum{}, nil, es); err != nil || state != TxCommitted {
		t.Errorf("Prepare of a committed txid = %v, %v, want committed", state, err)
	}
	if state, err := c.Fence(ctxT(t), tx); err != nil || state != TxCommitted {
		t.Errorf("Fence of a committed txid = %v, %v", state, err)
	}
	wantProviderError(t, c.Abort(ctxT(t), tx), "abort", ErrTxCommitted)
}

func TestFenceAbortAndRefusals(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, d.Addr(), d.ServerID(), newKey(t), false)
	es := c.Seal([]KV{{"k", 0, []byte("v")}})

	// A fenced txid can no longer be prepared or committed.
	fenced := txid(t)
	if state, err := c.Fence(ctxT(t), fenced); err != nil || state != TxAborted {
		t.Fatalf("Fence of an unknown txid = %v, %v, want aborted", state, err)
	}
	if state, err := c.Prepare(ctxT(t), fenced, Quorum{}, nil, es); err != nil || state != TxAborted {
		t.Errorf("Prepare of a fenced txid = %v, %v, want aborted", state, err)
	}
	wantProviderError(t, c.Commit(ctxT(t), fenced, c.CommitProofs(fenced, es)), "commit", ErrCommitAborted)

	// Commit of a txid never prepared.
	wantProviderError(t, c.Commit(ctxT(t), txid(t), nil), "commit", ErrTxUnknown)

	// Fence leaves a prepared txid prepared; Abort drops it and frees its keys.
	tx := txid(t)
	if _, err := c.Prepare(ctxT(t), tx, Quorum{}, nil, es); err != nil {
		t.Fatal(err)
	}
	if state, err := c.Fence(ctxT(t), tx); err != nil || state != TxPrepared {
		t.Errorf("Fence of a prepared txid = %v, %v", state, err)
	}
	if err := c.Abort(ctxT(t), tx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if err := c.Abort(ctxT(t), tx); err != nil {
		t.Errorf("second Abort: %v", err)
	}
	if err := c.Abort(ctxT(t), txid(t)); err != nil {
		t.Errorf("Abort of an unknown txid: %v", err)
	}
	if got, _ := c.Get(ctxT(t), ""); len(got) != 0 {
		t.Errorf("aborted writes visible: %v", keysOf(got))
	}
	if err := c.Put(ctxT(t), []KV{{"k", 0, []byte("free")}}); err != nil {
		t.Errorf("Put after Abort released the key: %v", err)
	}
	txs, err := c.Status(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]TxState{}
	for _, x := range txs {
		states[string(x.TxID)] = x.State
	}
	if states[string(tx)] != TxAborted || states[string(fenced)] != TxAborted {
		t.Errorf("Status states = %v", states)
	}

	// A version conflict refuses the Prepare with the stored version.
	_, err = c.Prepare(ctxT(t), txid(t), Quorum{}, nil, c.Seal([]KV{{"k", 0, []byte("again")}}))
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Conflicts[0].Version != 0 || !bytes.Equal(ce.Conflicts[0].Value, []byte("free")) {
		t.Errorf("Prepare with a stale version: %v", err)
	}
	wantProviderError(t, err, "prepare", ErrConflict)

	// A bad txid is refused by the server with a clear status.
	if _, err := c.Prepare(ctxT(t), []byte("short"), Quorum{}, nil, es); err == nil {
		t.Error("Prepare with a 5-byte txid succeeded")
	}
}

func TestTxStateString(t *testing.T) {
	t.Parallel()
	for s, want := range map[TxState]string{TxUnknown: "unknown", TxPrepared: "prepared", TxCommitted: "committed", TxAborted: "aborted", 9: "TxState(9)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(s), s.String(), want)
		}
	}
}

func TestBaseOnlyServer(t *testing.T) {
	t.Parallel()
	d := startServer(t, true)
	c := dialOpts(t, Options{Addr: d.Addr(), ServerID: d.ServerID(), ClientKey: newKey(t)})
	if err := c.Put(ctxT(t), []KV{{"a", 0, []byte("x")}, {"b", 0, []byte("y")}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctxT(t), "a")
	if err != nil {
		t.Fatalf("Get from a base-only server: %v", err)
	}
	checkEntries(t, got, KV{"a", 0, []byte("x")})
	if !c.BaseOnly() {
		t.Error("BaseOnly() = false for a client not pinned as an extension client")
	}

	tx := txid(t)
	es := c.Seal([]KV{{"c", 0, nil}})
	_, _, err = c.Restore(ctxT(t), es)
	wantProviderError(t, err, "restore", ErrNotSupported)
	_, err = c.Prepare(ctxT(t), tx, Quorum{}, nil, es)
	wantProviderError(t, err, "prepare", ErrNotSupported)
	wantProviderError(t, c.Commit(ctxT(t), tx, c.CommitProofs(tx, es)), "commit", ErrNotSupported)
	_, err = c.Fence(ctxT(t), tx)
	wantProviderError(t, err, "fence", ErrNotSupported)
	wantProviderError(t, c.Abort(ctxT(t), tx), "abort", ErrNotSupported)
	_, err = c.Status(ctxT(t))
	wantProviderError(t, err, "status", ErrNotSupported)
}

func TestRequireExtensionRefusesTheBaseGet(t *testing.T) {
	t.Parallel()
	d := startServer(t, true)
	c, err := Dial(ctxT(t), Options{Addr: d.Addr(), Name: "p1", ServerID: d.ServerID(), ClientKey: newKey(t), RequireExtension: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Get(ctxT(t), "")
	wantProviderError(t, err, "get", ErrNotExtension)
	wantProviderError(t, err, "get", ErrInvalidReply)
	if c.BaseOnly() {
		t.Error("client fell back to the base Get although the extension is required")
	}
}
