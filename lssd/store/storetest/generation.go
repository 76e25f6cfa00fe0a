package storetest

import (
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

// generationOf reads the client's generation and requires success.
func (e *env) generationOf() store.Generation {
	e.t.Helper()
	g, err := e.s.Generation(ctx(e.t), e.client)
	if err != nil {
		e.t.Fatalf("Generation: %v", err)
	}
	return g
}

// testGeneration: every write that changes the client's data or records (Put,
// Restore, Prepare, Commit, Abort, Fence, Restore settling a prepared txid,
// Prune) moves the generation on; reads, repeated decisions that change nothing,
// refused writes and other clients' writes leave it; no generation comes back;
// GetPage reports the generation of its snapshot; Transactions hides the
// generation record; a Store made again over the same backend reads the same.
func testGeneration(t *testing.T, f Factory) {
	e := newEnv(t, f)
	other := newClient(t)
	last := e.generationOf()
	if last != (store.Generation{}) {
		t.Fatalf("fresh client at generation %x, want zero", last)
	}
	seen := map[store.Generation]string{last: "fresh"}
	moved := func(what string, wantMoved bool) {
		t.Helper()
		g := e.generationOf()
		if got := g != last; got != wantMoved {
			t.Fatalf("%s: generation %x → %x; want moved = %v", what, last, g, wantMoved)
		}
		if was, ok := seen[g]; wantMoved && ok {
			t.Fatalf("%s: generation %x again, first seen after %s", what, g, was)
		}
		seen[g] = what
		last = g
	}
	reads := func(what string) {
		t.Helper()
		e.get("")
		e.record(newTxID(t))
		if _, err := e.s.Usage(ctx(t), e.client); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := e.s.GetPage(ctx(t), e.client, "", nil, 10, 0, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.s.TransactionsPage(ctx(t), e.client, nil, 10, 0); err != nil {
			t.Fatal(err)
		}
		moved(what+", then reads", false)
	}

	e.put(kv("a", 0, "a0"), kv("b", 0, "b0"))
	moved("Put", true)
	reads("Put")
	if conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{kv("a", 0, "again")}); err != nil || len(conflicts) != 1 {
		t.Fatalf("conflicting Put: %v, %v", conflicts, err)
	}
	moved("a Put refused by a conflict", false)
	e.putTo(other, kv("a", 0, "other"))
	moved("another client's Put", false)

	e.restore([]store.KV{kv("c", 3, "c3")}, "c")
	moved("Restore", true)
	e.restore([]store.KV{kv("c", 3, "c3")})
	moved("a Restore that writes nothing", false)

	tx1 := newTxID(t)
	e.prepareSealed(tx1, kv("a", 1, "a1"), kv("b", 1, "b1"))
	moved("Prepare", true)
	reads("Prepare")
	e.prepareSealed(tx1, kv("a", 1, "a1"), kv("b", 1, "b1"))
	moved("Prepare repeated", false)
	// The page read between Prepare and Commit differs from the one after
	// Commit, and so do their generations.
	_, _, before, err := e.s.GetPage(ctx(t), e.client, "", nil, 1, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if before != last {
		t.Fatalf("GetPage reports generation %x, Generation says %x", before, last)
	}
	if err := e.commit(ctx(t), tx1); err != nil {
		t.Fatal(err)
	}
	moved("Commit", true)
	if _, _, after, err := e.s.GetPage(ctx(t), e.client, "", nil, 1, 0, nil); err != nil || after == before {
		t.Fatalf("GetPage after Commit at %x (%v), the same as before it", after, err)
	}
	if err := e.s.Commit(ctx(t), e.client, tx1, nil); err != nil {
		t.Fatal(err)
	}
	moved("Commit repeated", false)

	tx2 := newTxID(t)
	e.prepareSealed(tx2, kv("a", 2, "a2"))
	moved("Prepare", true)
	if err := e.s.Abort(ctx(t), e.client, tx2); err != nil {
		t.Fatal(err)
	}
	moved("Abort", true)
	if err := e.s.Abort(ctx(t), e.client, tx2); err != nil {
		t.Fatal(err)
	}
	moved("Abort repeated", false)
	if err := e.s.Abort(ctx(t), e.client, newTxID(t)); err != nil {
		t.Fatal(err)
	}
	moved("Abort of an unknown txid (fences it)", true)

	tx3 := newTxID(t)
	if state, err := e.s.Fence(ctx(t), e.client, tx3); err != nil || state != store.TxAborted {
		t.Fatalf("Fence: %v, %v", state, err)
	}
	moved("Fence", true)
	if _, err := e.s.Fence(ctx(t), e.client, tx3); err != nil {
		t.Fatal(err)
	}
	moved("Fence repeated", false)
	reads("Fence")

	tx4 := newTxID(t)
	e.prepareSealed(tx4, kv("b", 2, "b2"))
	moved("Prepare", true)
	withProof := kv("b", 2, "b2")
	withProof.TxID, withProof.Proof = tx4, proof(tx4, "b")
	e.restore([]store.KV{withProof}, "b")
	moved("Restore settling a prepared txid", true)

	e.clock.Advance(retention + time.Hour)
	if n, err := e.s.Prune(ctx(t), e.client); err != nil || n == 0 {
		t.Fatalf("Prune: %d, %v", n, err)
	}
	moved("Prune", true)
	if n, err := e.s.Prune(ctx(t), e.client); err != nil || n != 0 {
		t.Fatalf("Prune again: %d, %v", n, err)
	}
	moved("Prune with nothing to prune", false)

	// The generation record is the store's own: Transactions never lists it.
	recs, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if len(rec.TxID) < store.MinTxIDLen {
			t.Fatalf("Transactions lists the store's own record %q", rec.TxID)
		}
	}
	// A new Store over the same backend (a restarted server) reads the same
	// generation: it is stored with the data.
	if g, err := e.store(e.b).Generation(ctx(t), e.client); err != nil || g != last {
		t.Fatalf("a second Store reads generation %x (%v), want %x", g, err, last)
	}
}
