package quorum

import (
	"bytes"
	"slices"

	"github.com/lssquorum/lss/provider"
)

// landingTx is an atomic put whose commit a read may find still landing: some
// merged values of it carry a valid commit proof, but fewer than W valid
// replies hold them. The providers that lack them may hold the transaction
// prepared, its Commit not applied yet (a prepared value is not data, so a
// read cannot tell); returning the value as it is would then let a later read,
// from those providers, return the older value: a read going back in time. So
// Get first settles the transaction (the proof shows it is decided committed:
// recovery commits it where it is prepared), then reads again.
type landingTx struct {
	TxID []byte
	// Keys are the merged keys of it found short of W, in key order.
	Keys []string
	// ProvenBy names the providers whose replies hold one of them with its
	// proof.
	ProvenBy []string
}

// landingTxs finds, in a merge of certified replies (splitCertified), the
// transactions whose commit may still be landing (see landingTx), in order of
// first key. w is the write quorum.
func landingTxs(m mergeResult, replies []reply, w int) []landingTx {
	var out []landingTx
	for i, e := range m.merged {
		if len(e.TxID) == 0 || !e.Certified || m.holders[i] >= w {
			continue
		}
		k := slices.IndexFunc(out, func(l landingTx) bool { return bytes.Equal(l.TxID, e.TxID) })
		if k < 0 {
			out = append(out, landingTx{TxID: e.TxID})
			k = len(out) - 1
		}
		out[k].Keys = append(out[k].Keys, e.Key)
		for _, r := range replies {
			if r.err != nil || slices.Contains(out[k].ProvenBy, r.name) {
				continue
			}
			if j, ok := findEntry(r.entries, e.Key); ok && sameWrite(r.entries[j], e) {
				out[k].ProvenBy = append(out[k].ProvenBy, r.name)
			}
		}
	}
	return out
}

// sameWrite says whether a and b are the same write: version, stored bytes and
// transaction.
func sameWrite(a, b provider.Entry) bool {
	return a.Version == b.Version && bytes.Equal(a.Stored, b.Stored) && bytes.Equal(a.TxID, b.TxID)
}
