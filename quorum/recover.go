package quorum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

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
	// N and W are the thresholds the decision counts with (committed once
	// prepared on W, aborted once fenced on N − W + 1), and Counted the providers
	// whose views count: the participants the coordinator recorded with its
	// prepares (by pinned server_id), or, for a transaction prepared without a
	// record, this client's providers that speak the extension and its W.
	N       int      `json:"n"`
	W       int      `json:"w"`
	Counted []string `json:"counted"`
	// Recorded says whether the coordinator recorded the participants and W.
	Recorded bool `json:"recorded"`
	// Inconsistent is set when providers recorded different quorums for the
	// transaction (only a faulty coordinator or provider can cause it): it is
	// then decided only if committed somewhere.
	Inconsistent bool `json:"inconsistent,omitempty"`
	recorded     provider.Quorum
}

// decideFrom applies the decision rule to views (by provider name), counting only
// the providers that take part.
func (s *TxStatus) decideFrom(views map[string]TxView) Decision {
	counted := make([]TxView, 0, len(s.Counted))
	for _, name := range s.Counted {
		counted = append(counted, views[name])
	}
	if s.Inconsistent {
		// No thresholds can be trusted, and one provider's "committed" is
		// only its word: never decided.
		return Undecided
	}
	return decide(s.N, s.W, counted)
}

// quorumOf fills N, W and Counted: from the recorded quorum if there is one,
// else from this client's providers. ids maps provider names to pinned server_ids.
func (s *TxStatus) quorumOf(parts []string, ids map[string][]byte, localW int) {
	if !s.Recorded {
		s.N, s.W, s.Counted = len(parts), localW, parts
		return
	}
	s.N, s.W, s.Counted = len(s.recorded.Participants), s.recorded.W, nil
	for _, name := range parts {
		id := ids[name]
		if id != nil && slices.ContainsFunc(s.recorded.Participants, func(p []byte) bool { return bytes.Equal(p, id) }) {
			s.Counted = append(s.Counted, name)
		}
	}
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
	// BaseOnly are the providers pinned as stock servers (no transactions).
	BaseOnly []string `json:"base_only,omitempty"`
	// Young are the pending transactions left alone because a live
	// coordinator may still be deciding them (RecoverOptions.LeaveYoung).
	Young []TxStatus `json:"young,omitempty"`
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
	return pendingTxs(parts, c.pinnedIDs(), lists, c.w), report, nil
}

// RecoverOptions tune RecoverWith.
type RecoverOptions struct {
	// LeaveYoung leaves alone the transactions younger than a coordinator's
	// deadline (four call timeouts, read from the timestamp in the txid, which
	// the prepare seal authenticates) that this client is not settling itself:
	// a live coordinator in another process may still be deciding them, and a
	// fence now would abort its put. They are listed in RecoveryReport.Young.
	// lss-quorum recover sets it; Open does too and settles them once they are
	// old.
	LeaveYoung bool
}

// Recover settles transactions left prepared by a coordinator that stopped or
// lost contact: for each, it fences the providers that hold no record, then
// commits or aborts it by the decision rule, and leaves it when too few providers
// answer to decide. It is safe at any time, concurrently with live coordinators
// and other recoveries, and idempotent; it may abort the put of a live
// coordinator in another process that is still gathering prepares (never split
// it): RecoverWith with LeaveYoung avoids that.
func (c *Client) Recover(ctx context.Context) (*RecoveryReport, error) {
	return c.RecoverWith(ctx, RecoverOptions{})
}

// RecoverWith is Recover with options.
func (c *Client) RecoverWith(ctx context.Context, opts RecoverOptions) (*RecoveryReport, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	parts, lists, report := c.gatherStatus(ctx)
	if len(parts) == 0 {
		return report, nil
	}
	now := time.Now()
	for _, st := range pendingTxs(parts, c.pinnedIDs(), lists, c.w) {
		if opts.LeaveYoung && !c.knowsTx(st.TxID) && youngTx(st.TxID, now, c.youngWindow()) {
			report.Young = append(report.Young, st)
			continue
		}
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
	// Stock servers are pinned so: they hold no transactions.
	notStock := func(_ int, m *member) bool { return !m.stock }
	c.fanOut(ctx, c.members, notStock, func(cctx context.Context, i int, m *member) {
		cl, err := m.client(cctx)
		if err == nil {
			all[i], err = cl.Status(cctx)
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
	for i, m := range c.members {
		if m.stock {
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
func pendingTxs(parts []string, ids map[string][]byte, lists [][]provider.Transaction, localW int) []TxStatus {
	var out []TxStatus
	for _, st := range gatherTxs(parts, ids, lists, localW) {
		if st.Pending() {
			out = append(out, st)
		}
	}
	return out
}

// gatherTxs builds every transaction the providers hold records of, in txid
// order, with what each provider holds, the quorum it is decided by, and the
// decision.
func gatherTxs(parts []string, ids map[string][]byte, lists [][]provider.Transaction, localW int) []TxStatus {
	byID := map[string]*TxStatus{}
	var txids []string
	for i, list := range lists {
		for _, tx := range list {
			id := string(tx.TxID)
			st := byID[id]
			if st == nil {
				st = &TxStatus{TxID: tx.TxID, Views: map[string]TxView{}}
				byID[id] = st
				txids = append(txids, id)
			}
			st.Views[parts[i]] = viewOfState(tx.State)
			if !tx.Quorum.IsZero() {
				if !validQuorum(tx.Quorum) || (st.Recorded && !sameQuorum(st.recorded, tx.Quorum)) {
					st.Inconsistent = true
				}
				st.recorded, st.Recorded = tx.Quorum, true
			}
			if st.Entries == nil && len(tx.Entries) > 0 && entriesVerified(tx.Entries) {
				st.Entries = tx.Entries
			}
		}
	}
	slices.Sort(txids)
	out := make([]TxStatus, 0, len(txids))
	for _, id := range txids {
		st := byID[id]
		for i, p := range parts {
			if _, ok := st.Views[p]; !ok {
				st.Views[p] = TxNone
				if lists[i] == nil {
					st.Views[p] = TxNoAnswer
				}
			}
		}
		st.quorumOf(parts, ids, localW)
		st.Decision = st.decideFrom(st.Views)
		for _, e := range st.Entries {
			st.Keys = append(st.Keys, e.Key)
		}
		out = append(out, *st)
	}
	return out
}

// validQuorum checks a quorum a provider reports: 1 <= W <= participants, the
// participants distinct and ascending. Anything else is never decided on.
func validQuorum(q provider.Quorum) bool {
	if q.W < 1 || q.W > len(q.Participants) {
		return false
	}
	for i := 1; i < len(q.Participants); i++ {
		if bytes.Compare(q.Participants[i-1], q.Participants[i]) >= 0 {
			return false
		}
	}
	return true
}

func sameQuorum(a, b provider.Quorum) bool {
	return a.W == b.W && slices.EqualFunc(a.Participants, b.Participants, bytes.Equal)
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
	views := copyViews(st.Views)
	var mu sync.Mutex
	ms := make([]*member, len(parts))
	for i, p := range parts {
		ms[i] = c.member(p)
	}
	act := func(steps []txStep) {
		pick := func(i int, _ *member) bool { return steps[i] != stepNothing }
		c.fanOut(ctx, ms, pick, func(cctx context.Context, i int, m *member) {
			line, view := c.recoveryStep(cctx, m, steps[i], st)
			mu.Lock()
			defer mu.Unlock()
			rec.Actions = append(rec.Actions, line)
			if view != TxNoAnswer {
				views[m.name] = view
			}
		})
	}
	ordered := func() []TxView {
		out := make([]TxView, len(parts))
		for i, p := range parts {
			out[i] = views[p]
		}
		return out
	}
	counted := make([]bool, len(parts))
	for i, p := range parts {
		counted[i] = slices.Contains(st.Counted, p)
	}
	d := st.decideFrom(views)
	if d == Undecided && !st.Inconsistent {
		act(planRecovery(Undecided, ordered(), counted, st.Entries != nil))
		d = st.decideFrom(views)
	}
	if d == Undecided && st.Recorded && len(st.Counted) == 0 {
		rec.Actions = append(rec.Actions, "not settled: none of this client's providers is among its recorded participants (pin every server_id)")
	}
	switch {
	case d == DecidedCommit && st.Entries == nil:
		// Commit proofs are made over the entries: without a verified copy
		// of them, nothing can be committed (a provider could otherwise get
		// proofs for what it claims was written).
		rec.Actions = append(rec.Actions, "not settled: no provider returned its entries verified, so no commit proof can be made")
	case d != Undecided:
		act(planRecovery(d, ordered(), counted, st.Entries != nil))
	case st.Inconsistent:
		rec.Actions = append(rec.Actions, "not settled: providers recorded different quorums for it")
	}
	slices.Sort(rec.Actions)
	rec.Decision = d
	rec.Settled = true
	rec.Views = views
	for _, v := range views {
		if v == TxPrepared {
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
	case stepCommit, stepRestore:
		view := TxPrepared
		if step == stepRestore {
			view = TxNone
		}
		if err := t.settleCommitted(ctx, m, view); err != nil {
			return fmt.Sprintf("%s: commit failed: %v", m.name, err), TxNoAnswer
		}
		if step == stepRestore {
			return fmt.Sprintf("%s: restored", m.name), TxNoAnswer
		}
		return fmt.Sprintf("%s: committed", m.name), TxCommitted
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

// pinnedIDs maps each provider's name to its pinned server_id (nil if unpinned).
func (c *Client) pinnedIDs() map[string][]byte {
	ids := make(map[string][]byte, len(c.members))
	for _, m := range c.members {
		ids[m.name] = m.opts.ServerID
	}
	return ids
}

// recoverTxIDs recovers the given transactions (left undecided by this
// client, or met as reservations) with one round of Status: a txid is done when
// every participant answered and none holds it prepared any more. Transactions
// no provider holds prepared are done at once.
func (c *Client) recoverTxIDs(ctx context.Context, txids [][]byte) (done map[string]bool, err error) {
	parts, lists, report := c.gatherStatus(ctx)
	want := make(map[string]bool, len(txids))
	for _, id := range txids {
		want[string(id)] = true
	}
	pending := map[string]bool{}
	done = map[string]bool{}
	var errs []string
	for _, st := range pendingTxs(parts, c.pinnedIDs(), lists, c.w) {
		if !want[string(st.TxID)] {
			continue
		}
		pending[string(st.TxID)] = true
		rec := c.recoverTx(ctx, parts, st)
		if rec.Settled && len(report.Unreachable) == 0 {
			done[string(st.TxID)] = true
		} else {
			errs = append(errs, fmt.Sprintf("transaction %x not settled: %s", st.TxID, strings.Join(rec.Actions, "; ")))
		}
	}
	for id := range want {
		if !pending[id] && len(report.Unreachable) == 0 {
			done[id] = true
		}
	}
	if len(report.Unreachable) > 0 {
		// A silent participant may still hold them prepared.
		errs = append(errs, fmt.Sprintf("%d provider(s) did not answer Status", len(report.Unreachable)))
	}
	if len(errs) > 0 {
		err = errors.New(strings.Join(errs, "; "))
	}
	return done, err
}
