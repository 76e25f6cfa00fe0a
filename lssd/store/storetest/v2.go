package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// The extension v2 fields: the txid and commit proof stored with each value, the
// prepare seal kept with each record, and Restore's all-or-nothing transaction
// groups. To the store every one of them is opaque bytes; the suite uses
// recognisable stand-ins.

// suiteQuorum is the quorum the suite records with sealed prepares.
var suiteQuorum = store.Quorum{Participants: [][]byte{{1}, {2}, {3}}, W: 2}

// proof is the suite's stand-in for the client's commit proof of txid's write of
// key: opaque, distinct per txid and key.
func proof(txid []byte, key string) []byte {
	h := sha256.Sum256(append(append([]byte("proof/"), txid...), key...))
	return h[:]
}

// sealOf is the suite's stand-in for the client's prepare seal of txid.
func sealOf(txid []byte) []byte {
	h := sha256.Sum256(append([]byte("seal/"), txid...))
	return h[:]
}

// prepareSealed prepares kvs under txid with suiteQuorum and sealOf(txid).
func (e *env) prepareSealed(txid []byte, kvs ...store.KV) {
	e.t.Helper()
	state, conflicts, err := e.s.PrepareQuorum(ctx(e.t), e.client, txid, suiteQuorum, sealOf(txid), kvs)
	if err != nil || len(conflicts) > 0 || state != store.TxPrepared {
		e.t.Fatalf("PrepareQuorum(%x) = %v, %s, %v; want prepared", txid, state, formatConflicts(conflicts), err)
	}
}

// proofsOf returns a proof for each prepared write of txid, in the record's
// order (none if txid is not prepared).
func (e *env) proofsOf(txid []byte) [][]byte {
	e.t.Helper()
	rec, ok := e.record(txid)
	if !ok || rec.State != store.TxPrepared {
		return nil
	}
	proofs := make([][]byte, len(rec.KVs))
	for i, kv := range rec.KVs {
		proofs[i] = proof(txid, kv.Key)
	}
	return proofs
}

// commit commits txid with the proofs of its prepared writes.
func (e *env) commit(c context.Context, txid []byte) error {
	e.t.Helper()
	return e.s.Commit(c, e.client, txid, e.proofsOf(txid))
}

// restore runs Restore and requires exactly wantApplied to be applied.
func (e *env) restore(kvs []store.KV, wantApplied ...string) []store.Conflict {
	e.t.Helper()
	applied, kept, err := e.s.Restore(ctx(e.t), e.client, kvs)
	if err != nil {
		e.t.Fatalf("Restore: %v", err)
	}
	if !slices.Equal(applied, wantApplied) {
		e.t.Fatalf("Restore applied %q, want %q (kept %s)", applied, wantApplied, formatConflicts(kept))
	}
	return kept
}

// wantTxFields requires key's stored txid and proof.
func (e *env) wantTxFields(key string, txid, proof []byte) {
	e.t.Helper()
	got := e.get(key)
	if len(got) == 0 || got[0].Key != key {
		e.t.Fatalf("%q absent, want it stored with txid %x", key, txid)
	}
	if !bytes.Equal(got[0].TxID, txid) || !bytes.Equal(got[0].Proof, proof) {
		e.t.Fatalf("%q stored with txid %x proof %x, want txid %x proof %x", key, got[0].TxID, got[0].Proof, txid, proof)
	}
}

// txKV is a kv written by txid, with its proof.
func txKV(txid []byte, key string, version int64, value string) store.KV {
	return store.KV{Key: key, Version: version, Value: []byte(value), TxID: txid, Proof: proof(txid, key)}
}

// testCommitStoresProofs: Commit stores each write with the txid and its proof,
// refuses another number of proofs (naming both counts) without changing
// anything, and the decided record keeps quorum and seal but not the writes.
func testCommitStoresProofs(t *testing.T, f Factory) {
	e := newEnv(t, f)
	txid := newTxID(t)
	e.prepareSealed(txid, kv("a", 0, "A"), kv("b", 0, "B"))

	for name, proofs := range map[string][][]byte{
		"no proofs":       nil,
		"one proof":       {proof(txid, "a")},
		"three proofs":    {proof(txid, "a"), proof(txid, "b"), proof(txid, "c")},
		"an empty proof":  {proof(txid, "a"), {}},
		"an overlong one": {proof(txid, "a"), make([]byte, store.MaxProofLen+1)},
	} {
		err := e.s.Commit(ctx(t), e.client, txid, proofs)
		if !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("Commit with %s: %v, want ErrInvalid", name, err)
		}
		if len(proofs) != 2 && (!strings.Contains(err.Error(), "2 prepared") || !strings.Contains(err.Error(), " "+string(rune('0'+len(proofs)))+" proofs")) {
			t.Errorf("Commit with %s: %q does not name both counts", name, err)
		}
	}
	e.wantRecord(txid, store.TxPrepared, kv("a", 0, "A"), kv("b", 0, "B"))
	if got := e.get(""); len(got) != 0 {
		t.Fatalf("refused commits wrote %s", formatKVs(got))
	}
	if holder := e.reservedBy("a"); !bytes.Equal(holder, txid) {
		t.Fatalf("after refused commits, a held by %x, want %x", holder, txid)
	}

	if err := e.commit(ctx(t), txid); err != nil {
		t.Fatal(err)
	}
	e.wantAll(kv("a", 0, "A"), kv("b", 0, "B"))
	e.wantTxFields("a", txid, proof(txid, "a"))
	e.wantTxFields("b", txid, proof(txid, "b"))
	rec, _ := e.record(txid)
	if rec.State != store.TxCommitted || len(rec.KVs) != 0 || !rec.Quorum.Equal(suiteQuorum) || !bytes.Equal(rec.Seal, sealOf(txid)) {
		t.Fatalf("committed record = %v, %d writes, quorum %+v, seal %x; want committed, no writes, quorum and seal kept",
			rec.State, len(rec.KVs), rec.Quorum, rec.Seal)
	}
	// Committing again succeeds and changes nothing.
	if err := e.s.Commit(ctx(t), e.client, txid, nil); err != nil {
		t.Fatalf("Commit of a committed txid: %v", err)
	}
	e.wantTxFields("a", txid, proof(txid, "a"))

	// A later plain put of the key leaves no txid or proof behind.
	e.put(kv("a", 1, "A'"))
	e.wantTxFields("a", nil, nil)
	// A conflict reports the stored txid and proof.
	conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{kv("b", 5, "x")})
	if err != nil || len(conflicts) != 1 || !bytes.Equal(conflicts[0].TxID, txid) || !bytes.Equal(conflicts[0].Proof, proof(txid, "b")) {
		t.Fatalf("conflict on b = %+v, %v; want the stored txid and proof", conflicts, err)
	}
}

// testSealAndTxFieldsValidation: the prepare seal is kept and part of what makes
// a repeated prepare the same; txid and proof are refused where they do not
// belong and checked where they do.
func testSealAndTxFieldsValidation(t *testing.T, f Factory) {
	e := newEnv(t, f)
	txid := newTxID(t)
	e.prepareSealed(txid, kv("s", 0, "S"))
	if rec, _ := e.record(txid); !bytes.Equal(rec.Seal, sealOf(txid)) {
		t.Fatalf("record seal = %x, want %x", rec.Seal, sealOf(txid))
	}
	for name, seal := range map[string][]byte{"other seal": sealOf(newTxID(t)), "no seal": nil} {
		if _, _, err := e.s.PrepareQuorum(ctx(t), e.client, txid, suiteQuorum, seal, []store.KV{kv("s", 0, "S")}); !errors.Is(err, store.ErrTxMismatch) {
			t.Errorf("prepare again with %s: %v, want ErrTxMismatch", name, err)
		}
	}
	c := ctx(t)
	other := newTxID(t)
	for name, run := range map[string]func() error{
		"overlong seal": func() error {
			_, _, err := e.s.PrepareQuorum(c, e.client, newTxID(t), suiteQuorum, make([]byte, store.MaxSealLen+1), []store.KV{kv("x", 0, "x")})
			return err
		},
		"prepare with a txid": func() error {
			_, _, err := e.s.Prepare(c, e.client, other, []store.KV{{Key: "x", Value: []byte("x"), TxID: other}})
			return err
		},
		"prepare with a proof": func() error {
			_, _, err := e.s.Prepare(c, e.client, other, []store.KV{{Key: "x", Value: []byte("x"), Proof: []byte("p")}})
			return err
		},
		"put with a txid": func() error {
			_, err := e.s.Put(c, e.client, []store.KV{{Key: "x", Value: []byte("x"), TxID: other}})
			return err
		},
		"put with a proof": func() error {
			_, err := e.s.Put(c, e.client, []store.KV{{Key: "x", Value: []byte("x"), Proof: []byte("p")}})
			return err
		},
		"restore with a proof but no txid": func() error {
			_, _, err := e.s.Restore(c, e.client, []store.KV{{Key: "x", Value: []byte("x"), Proof: []byte("p")}})
			return err
		},
		"restore with a short txid": func() error {
			_, _, err := e.s.Restore(c, e.client, []store.KV{{Key: "x", Value: []byte("x"), TxID: other[:store.MinTxIDLen-1]}})
			return err
		},
		"restore with an overlong proof": func() error {
			_, _, err := e.s.Restore(c, e.client, []store.KV{{Key: "x", Value: []byte("x"), TxID: other, Proof: make([]byte, store.MaxProofLen+1)}})
			return err
		},
	} {
		if err := run(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		} else if name != "overlong seal" && !strings.Contains(err.Error(), `"x"`) {
			t.Errorf("%s: %q does not name the key", name, err)
		}
	}
	if got := e.get("x"); len(got) != 0 {
		t.Fatalf("refused requests wrote %s", formatKVs(got))
	}
	e.wantNoRecord(other)
	// The seal outlives an abort too.
	if err := e.s.Abort(ctx(t), e.client, txid); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.record(txid); rec.State != store.TxAborted || !bytes.Equal(rec.Seal, sealOf(txid)) || !rec.Quorum.Equal(suiteQuorum) {
		t.Fatalf("aborted record = %v quorum %+v seal %x; want quorum and seal kept", rec.State, rec.Quorum, rec.Seal)
	}
}

// testRestoreStoresTxFields: Restore stores txid and proof with what it writes;
// kvs without a txid are still applied key by key.
func testRestoreStoresTxFields(t *testing.T, f Factory) {
	e := newEnv(t, f)
	t1 := newTxID(t)
	e.put(kv("p", 0, "old"))
	held := newTxID(t)
	e.prepare(held, kv("held", 0, "prepared"))
	kept := e.restore([]store.KV{txKV(t1, "a", 2, "A"), kv("held", 3, "x"), kv("p", 4, "P"), kv("q", 0, "Q")}, "a", "p", "q")
	wantConflicts(t, "kept", kept, []store.Conflict{reserved(absent("held"), held)})
	e.wantTxFields("a", t1, proof(t1, "a"))
	e.wantTxFields("p", nil, nil)
	// A kept key reports the txid and proof it holds.
	kept = e.restore([]store.KV{txKV(newTxID(t), "a", 1, "older")})
	if len(kept) != 1 || !bytes.Equal(kept[0].TxID, t1) || !bytes.Equal(kept[0].Proof, proof(t1, "a")) {
		t.Fatalf("kept = %+v, want a with txid %x and its proof", kept, t1)
	}
}

// testRestoreGroupBlocked: a transaction's kvs in a Restore are kept whole when
// any key that needs writing is reserved by another txid; kvs outside the group
// are applied on their own.
func testRestoreGroupBlocked(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("a", 0, "A0"), kv("b", 0, "B0"))
	blocker, tx := newTxID(t), newTxID(t)
	e.prepare(blocker, kv("b", 1, "blocker's"))
	kept := e.restore([]store.KV{txKV(tx, "a", 1, "A1"), txKV(tx, "b", 1, "B1"), txKV(tx, "c", 0, "C0"), kv("d", 0, "D0")}, "d")
	wantConflicts(t, "kept", kept, []store.Conflict{stored("a", 0, "A0"), reserved(stored("b", 0, "B0"), blocker), absent("c")})
	e.wantAll(kv("a", 0, "A0"), kv("b", 0, "B0"), kv("d", 0, "D0"))
	e.wantRecord(blocker, store.TxPrepared, kv("b", 1, "blocker's"))

	// A key of the group that needs no write does not block it, even if reserved.
	e.put(kv("e", 0, "E0"))
	other := newTxID(t)
	e.prepare(other, kv("e", 1, "other's"))
	tx2 := newTxID(t)
	kept = e.restore([]store.KV{txKV(tx2, "e", 0, "E0 again"), txKV(tx2, "f", 0, "F0")}, "f")
	wantConflicts(t, "kept", kept, []store.Conflict{reserved(stored("e", 0, "E0"), other)})

	// Once the blocker is aborted, the same group applies whole.
	if err := e.s.Abort(ctx(t), e.client, blocker); err != nil {
		t.Fatal(err)
	}
	e.restore([]store.KV{txKV(tx, "a", 1, "A1"), txKV(tx, "b", 1, "B1"), txKV(tx, "c", 0, "C0")}, "a", "b", "c")
	for _, key := range []string{"a", "b", "c"} {
		e.wantTxFields(key, tx, proof(tx, key))
	}
}

// testRestoreGroupClosed: a group some of whose keys are already at (or past) the
// transaction's version writes the rest, so that afterwards every key of the
// transaction is at its version or newer: the store stays transaction-closed.
func testRestoreGroupClosed(t *testing.T, f Factory) {
	e := newEnv(t, f)
	tx := newTxID(t)
	e.put(kv("a", 0, "A0"), kv("b", 0, "B0"), kv("c", 0, "C0"))
	e.put(kv("a", 1, "A1"))
	e.put(kv("c", 1, "C1"))
	e.put(kv("c", 2, "C2 newer"))
	group := []store.KV{txKV(tx, "a", 1, "A1"), txKV(tx, "b", 1, "B1"), txKV(tx, "c", 1, "C1"), txKV(tx, "d", 0, "D0")}
	kept := e.restore(group, "b", "d")
	wantConflicts(t, "kept", kept, []store.Conflict{stored("a", 1, "A1"), stored("c", 2, "C2 newer")})
	for _, kv := range group {
		got := e.get(kv.Key)
		if len(got) != 1 || got[0].Version < kv.Version {
			t.Errorf("after the restore %q is %s, want version >= %d (transaction-closed)", kv.Key, formatKVs(got), kv.Version)
		}
	}
	// Restoring the same group again changes nothing.
	e.restore(group)
}

// testRestoreSettlesPrepared: a Restore of a transaction prepared here settles it:
// writes its writes with their proofs, releases its keys, records it committed
// (keeping quorum and seal); entries that are not its prepared writes are refused.
func testRestoreSettlesPrepared(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("a", 0, "A0"))
	tx := newTxID(t)
	e.prepareSealed(tx, kv("a", 1, "A1"), kv("b", 0, "B0"))

	for name, group := range map[string][]store.KV{
		"other value":   {txKV(tx, "a", 1, "forged"), txKV(tx, "b", 0, "B0")},
		"a write less":  {txKV(tx, "a", 1, "A1")},
		"a write more":  {txKV(tx, "a", 1, "A1"), txKV(tx, "b", 0, "B0"), txKV(tx, "c", 0, "C0")},
		"other version": {txKV(tx, "a", 2, "A1"), txKV(tx, "b", 0, "B0")},
	} {
		if _, _, err := e.s.Restore(ctx(t), e.client, group); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("settling restore with %s: %v, want ErrInvalid", name, err)
		}
	}
	e.wantRecord(tx, store.TxPrepared, kv("a", 1, "A1"), kv("b", 0, "B0"))
	e.wantAll(kv("a", 0, "A0"))

	e.restore([]store.KV{txKV(tx, "a", 1, "A1"), txKV(tx, "b", 0, "B0")}, "a", "b")
	e.wantAll(kv("a", 1, "A1"), kv("b", 0, "B0"))
	e.wantTxFields("a", tx, proof(tx, "a"))
	e.wantTxFields("b", tx, proof(tx, "b"))
	for _, key := range []string{"a", "b"} {
		if holder := e.reservedBy(key); holder != nil {
			t.Errorf("%q still held by %x after the settling restore", key, holder)
		}
	}
	rec, _ := e.record(tx)
	if rec.State != store.TxCommitted || len(rec.KVs) != 0 || !rec.Quorum.Equal(suiteQuorum) || !bytes.Equal(rec.Seal, sealOf(tx)) {
		t.Fatalf("settled record = %v, %d writes, quorum %+v, seal %x; want committed with quorum and seal",
			rec.State, len(rec.KVs), rec.Quorum, rec.Seal)
	}
	// The coordinator's late Commit finds it committed; an Abort is refused.
	if err := e.s.Commit(ctx(t), e.client, tx, nil); err != nil {
		t.Errorf("Commit after the settling restore: %v", err)
	}
	if err := e.s.Abort(ctx(t), e.client, tx); !errors.Is(err, store.ErrTxCommitted) {
		t.Errorf("Abort after the settling restore: %v, want ErrTxCommitted", err)
	}
	e.put(kv("a", 2, "A2"), kv("b", 1, "B1"))
}
