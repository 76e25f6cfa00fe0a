package provider

import (
	"cmp"
	"slices"
)

// CommitProofs returns the commit proof of each of es as written by txid, in
// ascending key order: what Commit sends for a transaction prepared with es. Each
// proof binds txid, the key, the version and the stored bytes
// (wire.CommitProof, keyed by this client's HMAC secret). Issue them only once the
// transaction is decided committed: a proof is what makes a value readable.
func (c *Client) CommitProofs(txid []byte, es []Entry) [][]byte {
	sorted := slices.SortedStableFunc(slices.Values(es), func(a, b Entry) int { return cmp.Compare(a.Key, b.Key) })
	proofs := make([][]byte, len(sorted))
	for i, e := range sorted {
		proofs[i] = c.cert.Proof(txid, e.Key, e.Version, e.Stored)
	}
	return proofs
}

// VerifyProof reports whether proof is this client's commit proof of txid writing
// stored at key and version.
func (c *Client) VerifyProof(txid []byte, key string, version int64, stored, proof []byte) bool {
	return c.cert.VerifyProof(txid, key, version, stored, proof)
}
