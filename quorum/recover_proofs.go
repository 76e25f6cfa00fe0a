package quorum

import (
	"bytes"
	"context"

	"github.com/lssquorum/lss/provider"
)

// Recovery's proof path. A transaction's records are not the only evidence of
// its outcome: once the commit is decided, the coordinator (or a recovery that
// saw the decision) stores every value with a commit proof, which only the
// client can make. When the records alone do not show the commit (the
// committed records were pruned after their retention, or rolled back, while a
// participant kept the transaction prepared), a proof in some provider's data
// still does; without looking for one, the fences of the providers that forgot
// it would decide an abort of a put that was acknowledged.

// maxProofProbes bounds the keys of one transaction a recovery reads from each
// provider while looking for a commit proof: one proof is enough, and a
// transaction of many keys must not make a recovery read them all.
const maxProofProbes = 8

// provesCommit says whether e, as a provider returned it, is one of the
// transaction's values with a valid commit proof of it: the provider client
// verified the proof over (txid, key, version, stored value) (Certified), the
// txid is the transaction's, and the key, version and stored value are those of
// one of its verified entries.
func provesCommit(txid []byte, entries []provider.Entry, e provider.Entry) bool {
	if !e.Certified || !bytes.Equal(e.TxID, txid) {
		return false
	}
	for _, want := range entries {
		if want.Key == e.Key {
			return want.Version == e.Version && bytes.Equal(want.Stored, e.Stored)
		}
	}
	return false
}

// probeProofs reads up to maxProofProbes of the transaction's keys from every
// provider, in parallel, and names (in configuration order) the providers that
// hold one of its values with a valid commit proof. It needs the entries a
// verified prepare seal authenticates (st.Entries); without them it reads
// nothing. A provider that does not answer is simply not named. Only the
// providers ask accepts are read (nil: all).
func (c *Client) probeProofs(ctx context.Context, st TxStatus, ask func(*member) bool) []string {
	if len(st.Entries) == 0 {
		return nil
	}
	keys := make([]string, 0, min(len(st.Entries), maxProofProbes))
	for _, e := range st.Entries[:min(len(st.Entries), maxProofProbes)] {
		keys = append(keys, e.Key)
	}
	found := make([]bool, len(c.members))
	pick := func(_ int, m *member) bool { return ask == nil || ask(m) }
	c.fanOut(ctx, c.members, pick, func(ctx context.Context, i int, m *member) {
		cl, err := m.client(ctx)
		if err != nil {
			return
		}
		for _, key := range keys {
			e, held, err := cl.GetKey(ctx, key)
			m.noteErr(cl, err)
			if err != nil {
				return
			}
			if held && provesCommit(st.TxID, st.Entries, e) {
				found[i] = true
				return
			}
		}
	})
	var names []string
	for i, m := range c.members {
		if found[i] {
			names = append(names, m.name)
		}
	}
	return names
}
