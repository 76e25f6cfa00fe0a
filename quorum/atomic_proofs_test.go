package quorum

import (
	"bytes"
	"testing"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
)

// TestCommitProofsMadeOnceInKeyOrder checks the proofs a transaction's commits
// carry: one per entry in ascending key order (the order each provider
// prepared them in) whatever the entries' order, each verifying for its own
// entry and no other, and the same slice for every provider.
func TestCommitProofsMadeOnceInKeyOrder(t *testing.T) {
	secret := bytes.Repeat([]byte{3}, wire.SecretSize)
	c := &Client{cert: wire.NewCertifier(secret)}
	txid := bytes.Repeat([]byte{1}, TxIDSize)
	entries := []provider.Entry{
		{Key: "c", Version: 2, Stored: []byte("C")},
		{Key: "a", Version: 0, Stored: []byte("A")},
		{Key: "b", Version: 1, Stored: []byte("B")},
	}
	tr := &txRun{c: c, txid: txid, entries: entries}
	proofs := tr.commitProofs()
	if len(proofs) != 3 {
		t.Fatalf("%d proofs for 3 entries", len(proofs))
	}
	cert := wire.NewCertifier(secret)
	for i, e := range []provider.Entry{entries[1], entries[2], entries[0]} {
		if !cert.VerifyProof(txid, e.Key, e.Version, e.Stored, proofs[i]) {
			t.Errorf("proof %d does not verify for %q, the %d-th key in order", i, e.Key, i)
		}
		other := entries[(i+1)%3]
		if other.Key != e.Key && cert.VerifyProof(txid, other.Key, other.Version, other.Stored, proofs[i]) {
			t.Errorf("proof %d verifies for %q too", i, other.Key)
		}
	}
	if again := tr.commitProofs(); &again[0] != &proofs[0] {
		t.Error("commitProofs made the proofs again for another provider")
	}
}
