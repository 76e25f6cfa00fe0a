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
	parts, lists, _ := c.gatherStatus(ctx)
	if len(parts) == 0 {
		return nil, nil
	}
	return pendingTxs(parts, c.pinnedIDs(), lists, c.w), splitTxs(parts, c.pinnedIDs(), lists, c.w)
}

// splitTxs finds the transactions committed on one provider and aborted on so
// many of its participants (N − W + 1, by the quorum recorded with its prepares)
// that the rule would have decided them aborted: both decisions, which honest
// providers cannot produce. A committed transaction merely fenced on a provider
// that never prepared it is not a split.
func splitTxs(parts []string, ids map[string][]byte, lists [][]provider.Transaction, w int) []TxStatus {
	var out []TxStatus
	for _, st := range gatherTxs(parts, ids, lists, w) {
		if st.Inconsistent {
			continue
		}
		committed, aborted := false, 0
		for _, name := range st.Counted {
			switch st.Views[name] {
			case TxCommitted:
				committed = true
			case TxAborted:
				aborted++
			}
		}
		if committed && aborted >= st.N-st.W+1 {
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
			what = "providers recorded different quorums for it, so it cannot be decided safely; only a faulty coordinator or provider causes this"
		case tx.Decision == DecidedCommit:
			what = "it is decided COMMITTED; Recover completes it"
		case tx.Decision == DecidedAbort:
			what = "it is decided ABORTED; Recover releases its keys"
		}
		r.Problems = append(r.Problems, fmt.Sprintf("transaction %x is pending (%s) on keys %s: %s",
			tx.TxID[:min(8, len(tx.TxID))], viewList(tx.Views), quoteKeys(tx.Keys), what))
	}
	for _, tx := range split {
		r.Problems = append(r.Problems, fmt.Sprintf(
			"transaction %x is SPLIT (%s): committed on one provider, yet aborted on enough others to decide it aborted, which only a provider that rolled back its transaction records can cause",
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
