package quorum

import (
	"fmt"
	"strings"
)

// addTies records the unresolved ties of the audit's merge, each as a problem.
func (r *AuditReport) addTies(ties []Tie) {
	if len(ties) == 0 {
		return
	}
	r.Ties = ties
	for _, t := range ties {
		r.Problems = append(r.Problems, fmt.Sprintf(
			"TIE: different values at the newest version of %s, none known to be the acknowledged one (no watermark digest, no write quorum holds one); the key is not read until its next version is written",
			t))
	}
	r.Verdict = Disagree
}

// addPending records the values held without a commit proof, each as a
// problem: they are not read until their transaction is settled.
func (r *AuditReport) addPending(pending []PendingEntry) {
	if len(pending) == 0 {
		return
	}
	r.Pending = pending
	for _, p := range pending {
		r.Problems = append(r.Problems, fmt.Sprintf(
			"PENDING: %q v%d (txid %x) held by %s without a commit proof; it is not read until recovery settles its transaction",
			p.Key, p.Version, p.TxID, strings.Join(p.Providers, ", ")))
	}
	r.Verdict = Disagree
}
