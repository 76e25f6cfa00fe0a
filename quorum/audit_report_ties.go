package quorum

import "fmt"

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
