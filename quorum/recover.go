package quorum

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/lssquorum/lss/provider"
)

// TxStatus is one transaction as the providers hold it.
type TxStatus struct {
	TxID []byte `json:"txid"`
	// Views is what each participating provider holds (TxNoAnswer for one that did
	// not answer Status, TxNone for one without a record).
	Views map[string]TxView `json:"views"`
	// Decision is what the decision rule concludes from Views.
	Decision Decision `json:"decision"`
	// Entries are the transaction's writes, as a provider holding it reported.
	Entries []provider.Entry `json:"-"`
	// Keys are the keys the transaction writes.
	Keys []string `json:"keys"`
	// Quorum is what the decision counts with: the thresholds the coordinator
	// recorded with its prepares, or, for a transaction prepared without them,
	// this client's (W among its providers that speak the extension).
	Quorum provider.Quorum `json:"quorum"`
	// Recorded says whether Quorum was recorded by the coordinator.
	Recorded bool `json:"recorded"`
	// Inconsistent is set when providers recorded different thresholds for the
	// transaction; no decision is drawn then (only a faulty coordinator or
	// provider can cause it).
	Inconsistent bool `json:"inconsistent,omitempty"`
}

// Pending reports whether some provider still holds the transaction prepared.
func (s TxStatus) Pending() bool {
	for _, v := range s.Views {
		if v == TxPrepared {
			return true
		}
	}
	return false
}

// TxRecovery is what Recover did for one transaction.
type TxRecovery struct {
	TxStatus
	// Before is the view of each provider before Recover acted.
	Before map[string]TxView `json:"before"`
	// Actions are the calls made, one line each ("p1: commit ok").
	Actions []string `json:"actions"`
	// Settled is true when no provider is left prepared.
	Settled bool `json:"settled"`
}

// RecoveryReport is the outcome of Recover.
type RecoveryReport struct {
	Transactions []TxRecovery `json:"transactions"`
	// Unreachable are the providers whose Status failed, with the reason.
	Unreachable map[string]string `json:"unreachable,omitempty"`
	// BaseOnly are the providers that do not speak the extension.
	BaseOnly []string `json:"base_only,omitempty"`
}

// Settled reports whether every pending transaction was settled.
func (r *RecoveryReport) Settled() bool {
	for _, t := range r.Transactions {
		if !t.Settled {
			return false
		}
	}
	return true
}

// Transactions reads every provider's transaction records and returns the
// transactions still prepared somewhere, each with the decision the rule draws
// from what the providers hold now. It changes nothing.
func (c *Client) Transactions(ctx context.Context) ([]TxStatus, *RecoveryReport, error) {
	if err := c.checkOpen(); err != nil {
		return nil, nil, err
	}
	parts, lists, report := c.gatherStatus(ctx)
	if len(parts) == 0 {
		return nil, report, nil
	}
	w := atomicQuorum(c.w, len(parts))
	return pendingTxs(parts, lists, provider.Quorum{Participants: len(parts), W: w}), report, nil
}

// Recover settles transactions left prepared by a coordinator that stopped or
// lost contact: for each, it fences the providers that hold no record, then
// commits or aborts it by the decision rule, and leaves it when too few providers
// answer to decide. It is safe at any time, concurrently with live coordinators
// and other recoveries, and idempotent.
func (c *Client) Recover(ctx context.Context) (*RecoveryReport, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	parts, lists, report := c.gatherStatus(ctx)
	if len(parts) == 0 {
		return report, nil
	}
	w := atomicQuorum(c.w, len(parts))
	for _, st := range pendingTxs(parts, lists, provider.Quorum{Participants: len(parts), W: w}) {
		report.Transactions = append(report.Transactions, c.recoverTx(ctx, parts, st))
	}
	return report, nil
}

// gatherStatus asks every provider for its records in parallel. lists[i] is nil
// for a provider that did not answer.
func (c *Client) gatherStatus(ctx context.Context) (parts []string, lists [][]provider.Transaction, report *RecoveryReport) {
	report = &RecoveryReport{Unreachable: map[string]string{}}
	all := make([][]provider.Transaction, c.n)
	errs := make([]error, c.n)
	var wg sync.WaitGroup
	for i, m := range c.members {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			cl, err := m.client(cctx)
			if err == nil {
				all[i], err = cl.Status(cctx)
				c.noteSupport(m, err)
				var tampered *provider.TamperedError
				if errors.As(err, &tampered) {
					// Records whose values fail their HMAC are still records; only
					// their entries cannot be used for a restore.
					err = nil
				}
			}
			if err == nil && all[i] == nil {
				all[i] = []provider.Transaction{}
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, m := range c.members {
		if c.ext.isBaseOnly(m.name) {
			report.BaseOnly = append(report.BaseOnly, m.name)
			continue
		}
		parts = append(parts, m.name)
		if errs[i] != nil {
			report.Unreachable[m.name] = named(m.name, "status", errs[i]).Error()
			lists = append(lists, nil)
			continue
		}
		lists = append(lists, all[i])
	}
	return parts, lists, report
}

// pendingTxs builds, from each provider's records, the transactions prepared on
// at least one provider, in txid order, with their decisions.
func pendingTxs(parts []string, lists [][]provider.Transaction, local provider.Quorum) []TxStatus {
	byID := map[string]*TxStatus{}
	var ids []string
	for i, list := range lists {
		for _, tx := range list {
			id := string(tx.TxID)
			st := byID[id]
			if st == nil {
				st = &TxStatus{TxID: tx.TxID, Views: map[string]TxView{}}
				byID[id] = st
				ids = append(ids, id)
			}
			st.Views[parts[i]] = viewOfState(tx.State)
			if tx.Quorum != (provider.Quorum{}) {
				if st.Recorded && st.Quorum != tx.Quorum {
					st.Inconsistent = true
				}
				st.Quorum, st.Recorded = tx.Quorum, true
			}
			if st.Entries == nil && len(tx.Entries) > 0 && entriesVerified(tx.Entries) {
				st.Entries = tx.Entries
			}
		}
	}
	slices.Sort(ids)
	var out []TxStatus
	for _, id := range ids {
		st := byID[id]
		if !st.Pending() {
			continue
		}
		views := make([]TxView, len(parts))
		for i, p := range parts {
			v, ok := st.Views[p]
			switch {
			case ok:
			case lists[i] == nil:
				v = TxNoAnswer
			default:
				v = TxNone
			}
			st.Views[p], views[i] = v, v
		}
		if !st.Recorded {
			st.Quorum = local
		}
		if !st.Inconsistent {
			st.Decision = decide(st.Quorum.Participants, st.Quorum.W, views)
		}
		for _, e := range st.Entries {
			st.Keys = append(st.Keys, e.Key)
		}
		out = append(out, *st)
	}
	return out
}

func entriesVerified(es []provider.Entry) bool {
	for _, e := range es {
		if e.Value == nil {
			return false
		}
	}
	return true
}

// recoverTx settles one transaction: fence if undecided, then act on the
// decision.
func (c *Client) recoverTx(ctx context.Context, parts []string, st TxStatus) TxRecovery {
	rec := TxRecovery{TxStatus: st, Before: copyViews(st.Views)}
	views := make([]TxView, len(parts))
	for i, p := range parts {
		views[i] = st.Views[p]
	}
	var mu sync.Mutex
	act := func(steps []txStep) {
		var wg sync.WaitGroup
		for i, p := range parts {
			if steps[i] == stepNothing {
				continue
			}
			m := c.member(p)
			wg.Go(func() {
				line, view := c.recoveryStep(ctx, m, steps[i], st)
				mu.Lock()
				defer mu.Unlock()
				rec.Actions = append(rec.Actions, line)
				if view != TxNoAnswer {
					views[i] = view
				}
			})
		}
		wg.Wait()
	}
	if st.Inconsistent {
		// Deciding would need thresholds the providers disagree on: leave it,
		// the report names it.
		rec.Actions = append(rec.Actions, "not settled: providers recorded different quorums for it")
		return rec
	}
	n, w := st.Quorum.Participants, st.Quorum.W
	d := decide(n, w, views)
	if d == Undecided {
		act(planTx(Undecided, views))
		d = decide(n, w, views)
	}
	if d != Undecided {
		steps := planTx(d, views)
		if d == DecidedCommit && st.Entries == nil {
			// No verified copy of the writes to restore from: commit where prepared
			// and leave the rest to repair.
			for i, s := range steps {
				if s == stepRestore {
					steps[i] = stepNothing
				}
			}
		}
		act(steps)
	}
	slices.Sort(rec.Actions)
	rec.Decision = d
	rec.Settled = true
	for i, p := range parts {
		rec.Views[p] = views[i]
		if views[i] == TxPrepared {
			rec.Settled = false
		}
	}
	return rec
}

// recoveryStep makes one call and returns a report line and the provider's view
// after it (TxNoAnswer if unknown).
func (c *Client) recoveryStep(ctx context.Context, m *member, step txStep, st TxStatus) (string, TxView) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cl, err := m.client(ctx)
	if err != nil {
		return fmt.Sprintf("%s: unreachable: %v", m.name, err), TxNoAnswer
	}
	t := &txRun{c: c, txid: st.TxID, entries: st.Entries}
	switch step {
	case stepFence:
		state, err := cl.Fence(ctx, st.TxID)
		if err != nil {
			return fmt.Sprintf("%s: fence failed: %v", m.name, err), TxNoAnswer
		}
		return fmt.Sprintf("%s: fenced, holds %v", m.name, state), viewOfState(state)
	case stepCommit:
		err := cl.Commit(ctx, st.TxID)
		if errors.Is(err, provider.ErrTxUnknown) && st.Entries != nil {
			if err = t.restoreOne(ctx, cl); err == nil {
				return fmt.Sprintf("%s: restored", m.name), TxCommitted
			}
		}
		if err != nil {
			return fmt.Sprintf("%s: commit failed: %v", m.name, err), TxNoAnswer
		}
		return fmt.Sprintf("%s: committed", m.name), TxCommitted
	case stepRestore:
		if err := t.restoreOne(ctx, cl); err != nil {
			return fmt.Sprintf("%s: restore failed: %v", m.name, err), TxNoAnswer
		}
		return fmt.Sprintf("%s: restored", m.name), TxNoAnswer
	case stepAbort:
		if err := cl.Abort(ctx, st.TxID); err != nil {
			return fmt.Sprintf("%s: abort failed: %v", m.name, err), TxNoAnswer
		}
		return fmt.Sprintf("%s: aborted", m.name), TxAborted
	}
	return "", TxNoAnswer
}

func (c *Client) member(name string) *member {
	for _, m := range c.members {
		if m.name == name {
			return m
		}
	}
	return nil
}

func copyViews(v map[string]TxView) map[string]TxView {
	out := make(map[string]TxView, len(v))
	for k, x := range v {
		out[k] = x
	}
	return out
}
