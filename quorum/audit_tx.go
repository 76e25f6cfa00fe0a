package quorum

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lssquorum/lss/provider"
)

// txAudit reads every provider's transaction records: the transactions still
// prepared somewhere and the split ones (see splitTxs).
func (c *Client) txAudit(ctx context.Context) (pending, split []TxStatus) {
	parts, lists, _ := c.gatherRecords(ctx, nil, allRecords)
	if len(parts) == 0 {
		return nil, nil
	}
	return c.pending(parts, lists), splitTxs(parts, c.pinnedIDs(), lists, c.w)
}

// splitTxs finds the transactions that show both decisions (see isSplit):
// committed on one recorded participant, and aborted on the N − W + 1 that
// decide an abort. The thresholds are those a verified prepare seal
// authenticates; a decided transaction keeps no entries to verify its seal
// against, so for one without a verified record they are the quorum its records
// agree on, which a report may use (a split decides nothing) and a recovery never
// does.
func splitTxs(parts []string, ids map[string][]byte, lists [][]provider.Transaction, w int) []TxStatus {
	var out []TxStatus
	for _, st := range gatherTxs(parts, ids, lists, w) {
		if st.Inconsistent {
			continue
		}
		if !st.Recorded && st.claimedOK {
			st.N, st.W, st.Counted = len(st.claimed.Participants), st.claimed.W, countedOf(st.claimed, parts, ids)
		}
		views := make([]TxView, len(st.Counted))
		for i, name := range st.Counted {
			views[i] = st.Views[name]
		}
		if isSplit(st.N, st.W, views) {
			out = append(out, st)
		}
	}
	return out
}

// addTransactions adds the pending and split transactions to the report, each a
// problem in plain words: a prepared transaction holds its keys on the providers
// that prepared it until a coordinator or Recover settles it.
func (r *AuditReport) addTransactions(pending, split []TxStatus) {
	r.Transactions, r.Split = pending, split
	for _, tx := range pending {
		what := "too few providers answer to decide it; Recover fences the silent ones when they answer"
		switch {
		case tx.Inconsistent:
			what = "its records carry different valid prepare seals or a malformed quorum, so it cannot be decided safely; only a faulty coordinator causes this"
		case tx.Decision == DecidedCommit:
			what = "it is decided COMMITTED; Recover completes it"
		case tx.Decision == DecidedAbort:
			what = "it is decided ABORTED; Recover releases its keys"
		}
		if len(tx.Unverified) > 0 {
			what += fmt.Sprintf("; the records of %s count for nothing: their prepare seal is missing or does not verify (made up, or replayed), so no provider's word alone decides it",
				strings.Join(tx.Unverified, ", "))
		}
		r.Problems = append(r.Problems, fmt.Sprintf("transaction %x is pending (%s) on keys %s: %s",
			tx.TxID[:min(8, len(tx.TxID))], viewList(tx.Views), quoteKeys(tx.Keys), what))
	}
	for _, tx := range split {
		r.Problems = append(r.Problems, fmt.Sprintf(
			"transaction %x is SPLIT (%s): committed on one provider, yet aborted on enough others to decide it aborted, which honest providers cannot show: either a provider rolled back its transaction records, or the committed record is false",
			tx.TxID[:min(8, len(tx.TxID))], viewList(tx.Views)))
	}
	if len(r.Problems) > 0 {
		r.Verdict = Disagree
	}
}

func viewList(views map[string]TxView) string {
	names := make([]string, 0, len(views))
	for n := range views {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %v", n, views[n])
	}
	return strings.Join(parts, ", ")
}

func quoteKeys(keys []string) string {
	if len(keys) == 0 {
		return "(unknown)"
	}
	q := make([]string, 0, len(keys))
	for i, k := range keys {
		if i == 5 {
			q = append(q, fmt.Sprintf("and %d more", len(keys)-5))
			break
		}
		q = append(q, fmt.Sprintf("%q", k))
	}
	return strings.Join(q, ", ")
}
