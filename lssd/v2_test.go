package lssd

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
)

// prepareSealed sends a well-formed Prepare recording quorum and seal.
func (c *client) prepareSealed(id []byte, participants [][]byte, w int32, seal []byte, kvs ...*lsspb.KeyValue) (*lsspb.TxReply, error) {
	c.t.Helper()
	reply, err := c.rpc.Prepare(ctxT(c.t), &lsspb.PrepareRequest{
		Auth: c.auth(), Txid: id, Kvs: kvs, Participants: participants, WriteQuorum: w, Seal: seal,
		Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, participants, w, seal)})
	if err == nil {
		c.checkTxReply(wire.DomainPrepareReply, id, reply)
	}
	return reply, err
}

// boundGet reads prefix with BoundGet and checks the reply MAC.
func (c *client) boundGet(prefix string) []*lsspb.KeyValue {
	c.t.Helper()
	nonce := make([]byte, 32)
	rand.Read(nonce)
	reply, err := c.rpc.BoundGet(ctxT(c.t), &lsspb.GetRequest{Auth: c.auth(), KeyPrefix: prefix, Nonce: nonce})
	if err != nil {
		c.t.Fatalf("BoundGet(%q): %v", prefix, err)
	}
	if !bytes.Equal(reply.Hmac, wire.BoundGetReplyMAC(c.secret, prefix, nonce, reply.Kvs)) {
		c.t.Fatalf("BoundGet(%q) reply MAC does not verify", prefix)
	}
	return reply.Kvs
}

// txKV is a key-value written by id, with its test proof.
func txKV(id []byte, key string, version int64, value string) *lsspb.KeyValue {
	return &lsspb.KeyValue{Key: key, Version: version, Value: []byte(value), Txid: id, Proof: testProof(id, key)}
}

func wantTxFields(t *testing.T, what string, kv *lsspb.KeyValue, id, proof []byte) {
	t.Helper()
	if !bytes.Equal(kv.Txid, id) || !bytes.Equal(kv.Proof, proof) {
		t.Errorf("%s: %q has txid %x proof %x, want txid %x proof %x", what, kv.Key, kv.Txid, kv.Proof, id, proof)
	}
}

// TestCommitStoresProofs: Commit needs one proof per prepared write, stores each
// with the txid, BoundGet returns them under its MAC, the base Get never does, and
// the committed record keeps quorum and seal but not the writes.
func TestCommitStoresProofs(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	id, seal := txid(t), bytes.Repeat([]byte{0x5e}, 32)
	if _, err := c.prepareSealed(id, ids(3), 2, seal, kv("a", 0, "A"), kv("b", 0, "B")); err != nil {
		t.Fatal(err)
	}
	_, err := c.txWith(commitCall, id, [][]byte{testProof(id, "a")})
	wantCode(t, "commit with 1 proof for 2 writes", err, codes.InvalidArgument, "1 proofs", "2 prepared")
	_, err = c.txWith(commitCall, id, nil)
	wantCode(t, "commit without proofs", err, codes.InvalidArgument, "0 proofs", "2 prepared")
	_, err = c.txWith(commitCall, id, [][]byte{testProof(id, "a"), {}})
	wantCode(t, "commit with an empty proof", err, codes.InvalidArgument, "proof 1")
	// The request MAC covers the proofs: one swapped after signing is refused.
	proofs := [][]byte{testProof(id, "a"), testProof(id, "b")}
	req := &lsspb.TxRequest{Auth: c.auth(), Txid: id, Proofs: proofs, Hmac: wire.TxRequestMAC(c.secret, wire.DomainCommitRequest, id, proofs)}
	req.Proofs = [][]byte{testProof(id, "b"), testProof(id, "a")}
	_, err = c.rpc.Commit(ctxT(t), req)
	wantCode(t, "commit with proofs changed after the MAC", err, codes.InvalidArgument, "hmac")
	wantKVs(t, "nothing committed yet", c.get(""))

	if r, err := c.txWith(commitCall, id, proofs); err != nil || r.State != lsspb.TxState_TX_COMMITTED {
		t.Fatalf("commit = %v, %v", r, err)
	}
	got := c.boundGet("")
	wantKVs(t, "bound get", got, kv("a", 0, "A"), kv("b", 0, "B"))
	for i, kv := range got {
		wantTxFields(t, "bound get", kv, id, proofs[i])
	}
	for _, kv := range c.get("") {
		if kv.Txid != nil || kv.Proof != nil {
			t.Errorf("base Get returns txid %x proof %x for %q: the base protocol has no such fields", kv.Txid, kv.Proof, kv.Key)
		}
	}
	txs := c.status()
	if len(txs) != 1 || txs[0].State != lsspb.TxState_TX_COMMITTED || len(txs[0].Kvs) != 0 ||
		!bytes.Equal(txs[0].Seal, seal) || txs[0].WriteQuorum != 2 || len(txs[0].Participants) != 3 {
		t.Fatalf("status after commit = %v; want committed, no kvs, quorum and seal kept", txs)
	}
	// Committing again needs no proofs.
	if _, err := c.txWith(commitCall, id, nil); err != nil {
		t.Errorf("commit of a committed txid: %v", err)
	}
	// A conflict on a committed key reports its txid and proof under the reply MAC.
	r, err := c.prepare(txid(t), kv("a", 7, "x"))
	if err != nil || len(r.Conflicts) != 1 {
		t.Fatalf("conflicting prepare = %v, %v", r, err)
	}
	wantTxFields(t, "prepare conflict", r.Conflicts[0].Stored, id, proofs[0])
}

// TestV2BadInput: each malformed use of the v2 fields is INVALID_ARGUMENT naming
// the problem, and writes nothing.
func TestV2BadInput(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	id := txid(t)
	withTx := []*lsspb.KeyValue{txKV(id, "k", 0, "v")}
	longSeal := make([]byte, 65)
	cases := []struct {
		name  string
		call  func() error
		words []string
	}{
		{"put carrying a txid", func() error { _, err := c.rpc.Put(ctxT(t), c.putRequest(withTx...)); return err }, []string{"txid or proof", `"k"`}},
		{"prepare carrying a txid", func() error { _, err := c.prepare(id, withTx...); return err }, []string{"txid or proof", `"k"`}},
		{"overlong seal", func() error { _, err := c.prepareSealed(id, nil, 0, longSeal, kv("k", 0, "v")); return err }, []string{"seal", "65"}},
		{"seal changed after the MAC", func() error {
			kvs := []*lsspb.KeyValue{kv("k", 0, "v")}
			_, err := c.rpc.Prepare(ctxT(t), &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: kvs, Seal: []byte("other"),
				Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, nil, 0, []byte("signed"))})
			return err
		}, []string{"hmac"}},
		{"fence with proofs", func() error { _, err := c.txWith(fenceCall, id, [][]byte{{1}}); return err }, []string{"Fence", "only Commit"}},
		{"abort with proofs", func() error { _, err := c.txWith(abortCall, id, [][]byte{{1}}); return err }, []string{"Abort", "only Commit"}},
		{"restore with a proof but no txid", func() error {
			_, err := c.rpc.Restore(ctxT(t), restoreRequest(c, &lsspb.KeyValue{Key: "k", Value: []byte("v"), Proof: []byte("p")}))
			return err
		}, []string{"proof but no txid", `"k"`}},
		{"restore with a short txid", func() error {
			_, err := c.rpc.Restore(ctxT(t), restoreRequest(c, &lsspb.KeyValue{Key: "k", Value: []byte("v"), Txid: id[:8]}))
			return err
		}, []string{"txid", `"k"`}},
		{"restore with txid changed after the MAC", func() error {
			req := restoreRequest(c, txKV(id, "k", 0, "v"))
			req.Kvs[0].Txid = txid(t)
			_, err := c.rpc.Restore(ctxT(t), req)
			return err
		}, []string{"hmac"}},
	}
	for _, tc := range cases {
		wantCode(t, tc.name, tc.call(), codes.InvalidArgument, tc.words...)
	}
	wantKVs(t, "nothing written", c.get(""))
	if txs := c.status(); len(txs) != 0 {
		t.Errorf("refused requests left records: %v", txs)
	}
}

// TestRestoreGroups: a transaction's kvs in a Restore apply all or nothing, are
// stored with txid and proof, and settle the transaction when it is prepared here.
func TestRestoreGroups(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("a", 0, "a0"), kv("b", 0, "b0"))
	blocker, tx := txid(t), txid(t)
	if _, err := c.prepare(blocker, kv("b", 1, "blocker's")); err != nil {
		t.Fatal(err)
	}
	req := restoreRequest(c, txKV(tx, "a", 1, "a1"), txKV(tx, "b", 1, "b1"), kv("c", 0, "c0"))
	reply, err := c.rpc.Restore(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(reply.Applied) != 1 || reply.Applied[0] != "c" {
		t.Errorf("applied = %v, want only the plain c: the group is blocked by another txid", reply.Applied)
	}
	wantKVs(t, "kept", reply.Kept, kv("a", 0, "a0"), kv("b", 0, "b0"))
	if len(reply.ReservedBy) != 2 || len(reply.ReservedBy[0]) != 0 || !bytes.Equal(reply.ReservedBy[1], blocker) {
		t.Errorf("reserved_by = %x, want none for a and the blocker for b", reply.ReservedBy)
	}
	if !bytes.Equal(reply.Hmac, wire.RestoreReplyMAC(c.secret, req.Hmac, reply.Applied, reply.Kept, reply.ReservedBy)) {
		t.Error("Restore reply MAC does not verify")
	}

	// A group of a transaction prepared here settles it.
	settled, seal := txid(t), []byte("seal")
	if _, err := c.prepareSealed(settled, ids(3), 2, seal, kv("s1", 0, "s"), kv("s2", 0, "t")); err != nil {
		t.Fatal(err)
	}
	_, err = c.rpc.Restore(ctxT(t), restoreRequest(c, txKV(settled, "s1", 0, "forged"), txKV(settled, "s2", 0, "t")))
	wantCode(t, "restore of other writes under a prepared txid", err, codes.InvalidArgument, "not the 2 writes prepared")
	reply, err = c.rpc.Restore(ctxT(t), restoreRequest(c, txKV(settled, "s1", 0, "s"), txKV(settled, "s2", 0, "t")))
	if err != nil || len(reply.Applied) != 2 {
		t.Fatalf("settling restore = %v, %v; want both applied", reply, err)
	}
	for _, kv := range c.boundGet("s") {
		wantTxFields(t, "settled", kv, settled, testProof(settled, kv.Key))
	}
	for _, tx := range c.status() {
		if bytes.Equal(tx.Txid, settled) && (tx.State != lsspb.TxState_TX_COMMITTED || !bytes.Equal(tx.Seal, seal) || len(tx.Kvs) != 0) {
			t.Errorf("settled record = %v", tx)
		}
	}
	c.mustPut(kv("s1", 1, "released"))
}
