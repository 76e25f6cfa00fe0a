package quorum

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lssquorum/lss/provider"
)

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

// TxReport is what the providers hold of this client's transactions, as
// Transactions read it: a reading, which changes nothing (Recover returns a
// RecoveryReport of what it did).
type TxReport struct {
	// Pending are the transactions still prepared somewhere, in txid order,
	// each with the decision the rule draws from what the providers hold now.
	Pending []TxStatus `json:"pending"`
	// Unreachable are the providers whose Status failed, with the reason.
	Unreachable map[string]string `json:"unreachable,omitempty"`
	// BaseOnly are the providers pinned as stock servers (no transactions).
	BaseOnly []string `json:"base_only,omitempty"`
}

// Transactions reads every provider's transaction records and reports the
// transactions still prepared somewhere, each with the decision the rule draws
// from what the providers hold now. It changes nothing.
func (c *Client) Transactions(ctx context.Context) (*TxReport, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	parts, lists, report := c.gatherPending(ctx)
	if len(parts) > 0 {
		report.Pending = c.pending(parts, lists)
	}
	return report, nil
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
	// Progress, if set, is told how far the recovery has come.
	Progress ProgressFunc
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
	prog := newProgress(opts.Progress)
	prog.report("reading transaction records", 0, c.n)
	parts, lists, read := c.gatherPending(ctx)
	report := &RecoveryReport{Unreachable: read.Unreachable, BaseOnly: read.BaseOnly}
	prog.report("reading transaction records", c.n, c.n)
	if len(parts) == 0 {
		return report, nil
	}
	now := time.Now()
	var settle []TxStatus
	for _, st := range c.pending(parts, lists) {
		if opts.LeaveYoung && !c.knowsTx(st.TxID) && youngTx(st.TxID, now, c.youngWindow()) {
			report.Young = append(report.Young, st)
			continue
		}
		settle = append(settle, st)
	}
	tick := prog.counter("settling transactions", len(settle))
	for _, st := range settle {
		report.Transactions = append(report.Transactions, c.recoverTx(ctx, parts, st, nil))
		tick()
	}
	return report, nil
}

// pending is pendingTxs of this client's providers, with the aborts it
// decided (aborted.go) deciding their transactions.
func (c *Client) pending(parts []string, lists [][]provider.Transaction) []TxStatus {
	sts := pendingTxs(parts, c.pinnedIDs(), lists, c.w)
	for i := range sts {
		if c.mark.aborts.has(sts[i].TxID) {
			sts[i].AbortedHere = true
			sts[i].Decision = sts[i].decideFrom(sts[i].Views)
		}
	}
	return sts
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

// recoverTx settles one transaction: fence if undecided, then act on the
// decision. It calls only the providers ask accepts (nil: all).
func (c *Client) recoverTx(ctx context.Context, parts []string, st TxStatus, ask func(*member) bool) TxRecovery {
	rec := TxRecovery{TxStatus: st, Before: copyViews(st.Views)}
	views := copyViews(st.Views)
	var mu sync.Mutex
	ms := make([]*member, len(parts))
	for i, p := range parts {
		ms[i] = c.member(p)
	}
	act := func(steps []txStep) {
		pick := func(i int, m *member) bool { return steps[i] != stepNothing && (ask == nil || ask(m)) }
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
	if (d == Undecided || st.AbortedHere) && !st.Inconsistent && st.Entries != nil && len(st.Proven) == 0 {
		// Before fencing: a commit proof in some provider's data decides
		// (recover_proofs.go). A transaction the records show aborted is
		// not probed: a proof there would only mean some provider rolled
		// back its records (audit's SPLIT), and the values it proves stay
		// readable where they are; probing every aborted leftover would
		// multiply the cost of a recovery. One this client remembers
		// aborting is: if another recovery committed it after all (it
		// lacked the memory), the rest of its providers are settled the
		// same way rather than split.
		if st.Proven = c.probeProofs(ctx, st, ask); len(st.Proven) > 0 {
			rec.Proven = st.Proven
			rec.Actions = append(rec.Actions, "commit proof held by "+strings.Join(st.Proven, ", "))
			for _, name := range st.Proven {
				if v, ok := views[name]; ok && (v == TxNone || v == TxNoAnswer) {
					// It committed (its record pruned or lost): nothing to restore.
					views[name] = TxCommitted
				}
			}
			d = st.decideFrom(views)
		}
	}
	if d == Undecided && !st.Inconsistent {
		act(planRecovery(Undecided, ordered(), counted, st.Entries != nil))
		d = st.decideFrom(views)
	}
	if st.AbortedHere && len(st.Proven) == 0 {
		if byRecords := st.withoutAbortMemory().decideFrom(views); byRecords == DecidedCommit {
			// Among honest providers a transaction cannot be both: one of
			// those holding it prepared told the coordinator otherwise.
			c.log.Error("recovery: providers hold prepared on W a transaction this client decided aborted; one of them equivocates, aborting it",
				"txid", fmt.Sprintf("%x", st.TxID), "prepared", preparedOn(views))
			rec.Actions = append(rec.Actions, "decided aborted by this client: the prepared views that would commit it include a provider that lied")
		}
	}
	if d == DecidedAbort && !st.AbortedHere {
		// Remembered before any Abort is sent, so that no later recovery of
		// this client can commit it (aborted.go).
		_ = c.rememberAbort(ctx, st.TxID) // a failed save is logged; this process remembers it
	}
	if why := recoveryHold(d, st.Inconsistent, st.Recorded, len(st.Counted), st.Entries != nil); why != "" {
		rec.Actions = append(rec.Actions, "not settled: "+why)
	} else if d != Undecided {
		act(planRecovery(d, ordered(), counted, st.Entries != nil))
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
		m.noteErr(cl, err)
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
		// As the coordinator aborts: an Abort refused as committed is checked
		// with a Fence (abortOne).
		if err := t.abortOne(ctx, m); err != nil {
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
// client, or met as reservations) with one round of Status naming them: a txid is done when
// every participant answered and none holds it prepared any more. Transactions
// no provider holds prepared are done at once.
func (c *Client) recoverTxIDs(ctx context.Context, txids [][]byte) (done map[string]bool, err error) {
	return c.recoverProven(ctx, txids, nil, nil)
}

// recoverProven is recoverTxIDs where proven names, per txid, the providers a
// read found holding a value of it with a valid commit proof: such a
// transaction is decided committed without further evidence. It asks and
// calls only the providers ask accepts (nil: all).
func (c *Client) recoverProven(ctx context.Context, txids [][]byte, proven map[string][]string, ask func(*member) bool) (done map[string]bool, err error) {
	parts, lists, report := c.gatherRecords(ctx, ask, recordsOf(txids))
	want := make(map[string]bool, len(txids))
	for _, id := range txids {
		want[string(id)] = true
	}
	pending := map[string]bool{}
	done = map[string]bool{}
	var errs []string
	for _, st := range c.pending(parts, lists) {
		if !want[string(st.TxID)] {
			continue
		}
		pending[string(st.TxID)] = true
		st.Proven = proven[string(st.TxID)]
		rec := c.recoverTx(ctx, parts, st, ask)
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
