package storetest

import (
	"bytes"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// testRestart checks that data, reservations and transaction records survive a
// close and reopen, and that the reopened backend goes on from where it was.
func testRestart(t *testing.T, f Factory) {
	if f.Reopen == nil {
		t.Skip("backend is not persistent (Factory.Reopen is nil)")
	}
	e := newEnv(t, f)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<12)
	e.put(kv("", 0, "empty key"), kv("a", 0, "A"), store.KV{Key: "big", Value: big}, kv("c", 0, "C"))
	e.put(kv("a", 1, "A'"))
	prepared, committed, fenced, aborted := newTxID(t), newTxID(t), newTxID(t), newTxID(t)
	e.bringTo(fromPrepared, prepared, []store.KV{kv("c", 1, "C'"), kv("d", 0, "D")})
	e.bringTo(fromCommitted, committed, []store.KV{kv("e", 0, "E")})
	e.bringTo(fromFenced, fenced, nil)
	e.bringTo(fromAborted, aborted, []store.KV{kv("f", 0, "F")})
	restored := newTxID(t)
	e.restore([]store.KV{{Key: "r", Version: 3, Value: []byte("R"), TxID: restored, Proof: proof(restored, "r")}}, "r")
	before, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}

	e.b = f.Reopen(t, e.b)
	if e.b == nil {
		t.Fatal("storetest: Factory.Reopen returned nil")
	}
	e.s = e.store(e.b)

	e.wantAll(kv("", 0, "empty key"), kv("a", 1, "A'"), store.KV{Key: "big", Value: big}, kv("c", 0, "C"), kv("e", 0, "E"),
		kv("r", 3, "R"))
	e.wantTxFields("e", committed, proof(committed, "e"))
	e.wantTxFields("r", restored, proof(restored, "r"))
	e.wantTxFields("a", nil, nil)
	after, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d records after restart, want %d", len(after), len(before))
	}
	for i := range after {
		a, b := after[i], before[i]
		if !bytes.Equal(a.TxID, b.TxID) || a.State != b.State || !sameKVs(a.KVs, b.KVs) || !a.Updated.Equal(b.Updated) ||
			!a.Quorum.Equal(b.Quorum) || !bytes.Equal(a.Seal, b.Seal) {
			t.Errorf("record %d after restart = %x %v %s %v, want %x %v %s %v", i,
				a.TxID, a.State, formatKVs(a.KVs), a.Updated, b.TxID, b.State, formatKVs(b.KVs), b.Updated)
		}
	}
	for _, key := range []string{"c", "d"} {
		if holder := e.reservedBy(key); !bytes.Equal(holder, prepared) {
			t.Errorf("%q held by %x after restart, want %x", key, holder, prepared)
		}
	}
	if holder := e.reservedBy("f"); holder != nil {
		t.Errorf("aborted transaction's key held by %x after restart", holder)
	}
	// The fence still refuses a late Prepare; the prepared transaction commits.
	if state, _, err := e.s.Prepare(ctx(t), e.client, fenced, []store.KV{kv("g", 0, "G")}); err != nil || state != store.TxAborted {
		t.Fatalf("Prepare of a fenced txid after restart = %v, %v; want aborted", state, err)
	}
	if err := e.commit(ctx(t), prepared); err != nil {
		t.Fatal(err)
	}
	e.put(kv("a", 2, "A''"), kv("c", 2, "C''"), kv("f", 0, "F"))
	e.wantAll(kv("", 0, "empty key"), kv("a", 2, "A''"), store.KV{Key: "big", Value: big}, kv("c", 2, "C''"),
		kv("d", 0, "D"), kv("e", 0, "E"), kv("f", 0, "F"), kv("r", 3, "R"))
}
