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

	"github.com/hashicorp/go-multierror"

	"github.com/lssquorum/lss/provider"
)

// txAnswer is one provider's answer to Prepare.
type txAnswer struct {
	i    int
	view TxView
	err  error
}

// txAck is one provider's answer to the commit: nil when it holds the write.
type txAck struct {
	name string
	err  error
}

// putAtomic writes kvs all-or-nothing across the participants with a
// two-phase commit (docs/design.md, "Atomic commit"). A put aborted because a
// key is reserved by another transaction of this client settles that
// transaction (from the settler if this process coordinated it, else by
// recovering it, unless it is young enough that its coordinator may still be
// at work) and is tried once more with a fresh txid.
func (c *Client) putAtomic(ctx context.Context, kvs []provider.KV) (*PutResult, error) {
	res, err := c.putAtomicOnce(ctx, kvs)
	if !errors.Is(err, ErrTxAborted) {
		return res, err
	}
	var txErr *TxError
	errors.As(err, &txErr)
	stale := c.staleReservations(txErr)
	if len(stale) == 0 {
		return res, err
	}
	var foreign [][]byte
	for _, txid := range stale {
		if !c.knowsTx(txid) { // the settler's own are flushed by the retry
			foreign = append(foreign, txid)
		}
	}
	if len(foreign) > 0 {
		rctx, cancel := context.WithTimeout(ctx, 3*c.timeout)
		_, rerr := c.recoverTxIDs(rctx, foreign)
		cancel()
		if rerr != nil {
			c.log.Warn("atomic put: a key is reserved by a transaction that could not be settled", "err", rerr)
		}
	}
	return c.putAtomicOnce(ctx, kvs)
}

// staleReservations are the txids, other than the put's own, that reserved a
// key against it, leaving out the young ones of other processes.
func (c *Client) staleReservations(txErr *TxError) [][]byte {
	if txErr == nil {
		return nil
	}
	seen := map[string]bool{}
	var out [][]byte
	for _, e := range txErr.Errs {
		var conflict *provider.ConflictError
		if !errors.As(e, &conflict) {
			continue
		}
		for _, cf := range conflict.Conflicts {
			id := cf.ReservedBy
			if len(id) == 0 || bytes.Equal(id, txErr.TxID) || seen[string(id)] {
				continue
			}
			seen[string(id)] = true
			if !c.knowsTx(id) && youngTx(id, time.Now(), c.youngWindow()) {
				continue
			}
			out = append(out, id)
		}
	}
	return out
}

// youngWindow is how long a coordinator may still be deciding a transaction:
// it gathers prepares and fences within about two call timeouts, and its
// providers give up waiting for the decision after four.
func (c *Client) youngWindow() time.Duration { return 4 * c.timeout }

// putAtomicOnce is one attempt at an atomic put, with a fresh txid.
func (c *Client) putAtomicOnce(ctx context.Context, kvs []provider.KV) (*PutResult, error) {
	parts, base := c.participants()
	txid := c.newTxID()
	t := &txRun{c: c, txid: txid, entries: c.sealTx(txid, kvs), kvs: kvs, parts: parts, base: base, wc: c.w,
		decided: make(chan struct{}), stopped: make(chan struct{})}
	t.seal = c.prepareSeal(txid, t.quorum(), t.entries)
	return t.run(ctx)
}

// txRun is one atomic put in progress. Each provider has a goroutine that lives
// for the whole transaction: it waits for earlier writes of the same keys to that
// provider, prepares, waits for the decision, then settles its provider (commit,
// restore or abort). The coordinator only gathers answers and decides.
type txRun struct {
	c       *Client
	txid    []byte
	entries []provider.Entry
	kvs     []provider.KV
	// seal is the prepare seal every participant records (prepareSeal).
	seal  []byte
	parts []*member
	base  []*member
	wc    int

	// Written by the coordinator before it closes decided; read-only after.
	views    []TxView
	errs     []error
	decision Decision
	decided  chan struct{}
	// stopped is closed when the coordinator stops without a decision (a test
	// crash); the provider goroutines then leave their providers as they are.
	stopped chan struct{}

	answers chan txAnswer
	acks    chan txAck

	// proofs are the commit proofs of entries, made once, at the first commit
	// after the decision (commitProofs).
	proofsOnce sync.Once
	proofs     [][]byte
}

// commitProofs returns the commit proofs of the transaction's entries, in their
// (ascending key) order, as every participant's Commit carries them: made once
// per transaction, not once per provider. Only called once the commit is
// decided.
func (t *txRun) commitProofs() [][]byte {
	t.proofsOnce.Do(func() {
		sorted := slices.SortedStableFunc(slices.Values(t.entries), func(a, b provider.Entry) int { return strings.Compare(a.Key, b.Key) })
		t.proofs = make([][]byte, len(sorted))
		for i, e := range sorted {
			t.proofs[i] = t.c.cert.Proof(t.txid, e.Key, e.Version, e.Stored)
		}
	})
	return t.proofs
}

// quorum is what every prepare records: the participants' pinned server_ids in
// ascending order, and the write quorum among them.
func (t *txRun) quorum() provider.Quorum {
	ids := make([][]byte, len(t.parts))
	for i, m := range t.parts {
		ids[i] = m.opts.ServerID
	}
	slices.SortFunc(ids, bytes.Compare)
	return provider.Quorum{Participants: ids, W: t.wc}
}

func (t *txRun) keys() []string {
	keys := make([]string, len(t.entries))
	for i, e := range t.entries {
		keys[i] = e.Key
	}
	return keys
}

func (t *txRun) run(ctx context.Context) (*PutResult, error) {
	c := t.c
	// Provider calls run under their own deadlines and survive the caller's
	// cancellation: a decided transaction must still reach its providers.
	bg := context.WithoutCancel(ctx)
	n := len(t.parts)
	t.views, t.errs = make([]TxView, n), make([]error, n)
	t.answers = make(chan txAnswer, n)
	t.acks = make(chan txAck, n+len(t.base))
	keys := t.keys()
	var starts, dones []func()
	// Every provider's queue gets this put at the same point relative to other
	// puts, or two puts of overlapping keys could wait for each other.
	c.order.Lock()
	for i, m := range t.parts {
		wait, done := m.writes.enqueue(keys)
		starts, dones = append(starts, func() { defer done(); t.participate(bg, i, m, wait) }), append(dones, done)
	}
	for _, m := range t.base {
		wait, done := m.writes.enqueue(keys)
		starts, dones = append(starts, func() { defer done(); t.writeBaseOnly(bg, m, wait) }), append(dones, done)
	}
	c.order.Unlock()
	// All or none: a put refused at Close must not have prepared anywhere.
	if !c.goBackgroundAll(starts) {
		for _, done := range dones {
			done()
		}
		return nil, ErrClosed
	}

	// Gather until commit is decided (never wait for the slowest provider once W
	// prepared) or every provider answered.
	pending := n
gather:
	for pending > 0 && decide(n, t.wc, t.views) != DecidedCommit {
		select {
		case a := <-t.answers:
			pending--
			t.views[a.i], t.errs[a.i] = a.view, a.err
		case <-ctx.Done():
			break gather
		}
	}
	if c.stopAt(stagePrepared) {
		close(t.stopped)
		return nil, errCoordinatorStopped
	}
	d := decide(n, t.wc, t.views)
	if d == Undecided {
		// A silent provider may have prepared: ask it safely, never abort blindly.
		t.fence(bg, planTx(Undecided, t.views))
		d = decide(n, t.wc, t.views)
	}
	if c.stopAt(stageDecided) {
		close(t.stopped)
		return nil, errCoordinatorStopped
	}
	t.decision = d
	close(t.decided)

	switch d {
	case DecidedCommit:
		return t.awaitCommit()
	case DecidedAbort:
		err := t.awaitAbort()
		// Saved before the caller learns of the abort, so that no later
		// recovery of this client commits it (aborted.go).
		_ = c.rememberAbort(bg, t.txid) // a failed save is logged; this process remembers it
		return nil, err
	}
	err := t.indeterminate(Undecided, 0)
	c.handOff(t, Undecided, nil, err)
	return nil, err
}

// participate is one provider's part in the transaction. Once the transaction is
// decided it sends exactly one ack, which the coordinator may be waiting for.
func (t *txRun) participate(ctx context.Context, i int, m *member, wait func(context.Context) error) {
	c := t.c
	a := t.prepare(ctx, i, m, wait)
	t.answers <- a
	if !t.awaitDecision() {
		return
	}
	// What the coordinator learned (the answer, or a fence) wins; a Prepare
	// answered after the decision speaks for itself.
	view := t.views[i]
	if view == TxNoAnswer {
		view = a.view
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var err error
	switch t.decision {
	case DecidedCommit:
		err = named(m.name, "commit", t.settleCommitted(cctx, m, view))
	case DecidedAbort:
		// Abort releases a prepared provider and fences a silent one, so a
		// Prepare still on its way is refused when it lands.
		if view != TxAborted {
			err = named(m.name, "abort", t.abortOne(cctx, m))
		}
	}
	t.acks <- txAck{m.name, err}
	if err != nil && !errors.Is(err, provider.ErrTxCommitted) && !errors.Is(err, errDiverged) {
		// Self-settling: no key stays reserved after a decision while the
		// provider answers.
		c.handOff(t, t.decision, m, err)
	}
}

// awaitDecision waits until the coordinator decides (true) or stops (false). The
// coordinator decides within about two call timeouts; the bound only guards
// against a bug leaving the goroutine behind. A missed decision sends no ack: the
// coordinator's own ack deadline bounds its wait.
func (t *txRun) awaitDecision() bool {
	timer := time.NewTimer(4 * t.c.timeout)
	defer timer.Stop()
	select {
	case <-t.decided:
		return true
	case <-t.stopped:
		return false
	case <-timer.C:
		return false
	}
}

func (t *txRun) prepare(ctx context.Context, i int, m *member, wait func(context.Context) error) txAnswer {
	ctx, cancel := context.WithTimeout(ctx, t.c.timeout)
	defer cancel()
	if err := wait(ctx); err != nil {
		return txAnswer{i: i, view: TxNoAnswer, err: named(m.name, "prepare", err)}
	}
	// This provider's own pending transactions on these keys first: they hold
	// the keys reserved. Other providers do not wait for it.
	t.c.flushMember(ctx, m, t.keys())
	cl, err := m.client(ctx)
	if err != nil {
		return txAnswer{i: i, view: TxNoAnswer, err: named(m.name, "prepare", err)}
	}
	state, err := cl.Prepare(ctx, t.txid, t.quorum(), t.seal, t.entries)
	m.noteErr(cl, err)
	return txAnswer{i: i, view: viewOfPrepare(state, err), err: named(m.name, "prepare", err)}
}

// writeBaseOnly gives a base-protocol-only provider the write with a plain Put,
// once (and only if) the transaction is decided committed.
func (t *txRun) writeBaseOnly(ctx context.Context, m *member, wait func(context.Context) error) {
	if !t.awaitDecision() || t.decision != DecidedCommit {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, t.c.timeout)
	defer cancel()
	err := wait(cctx)
	if err == nil {
		err = t.putPlainEntries(cctx, m)
	}
	t.acks <- txAck{m.name, named(m.name, "put", err)}
}

func (t *txRun) putPlainEntries(ctx context.Context, m *member) error {
	cl, err := m.client(ctx)
	if err != nil {
		return err
	}
	// Decided committed: the values go with their txid and commit proofs (in a
	// carrier, since a stock server has no fields for them).
	err = cl.PutEntries(ctx, t.c.certified(t.txid, t.entries))
	m.noteErr(cl, err)
	if err == nil {
		m.confirmed.raiseKVs(t.kvs)
	}
	return err
}

// viewOfPrepare reads a Prepare answer: a refusal by the version rule or a
// reservation means no record was made; any other failure may hide a prepare.
// UNIMPLEMENTED from a provider pinned as speaking the extension is not a "no"
// either: nothing authenticates a status code, so it may hide a prepare.
func viewOfPrepare(state provider.TxState, err error) TxView {
	switch {
	case errors.Is(err, provider.ErrConflict):
		return TxNone
	case err != nil:
		return TxNoAnswer
	}
	return viewOfState(state)
}

func viewOfState(s provider.TxState) TxView {
	switch s {
	case provider.TxPrepared:
		return TxPrepared
	case provider.TxCommitted:
		return TxCommitted
	case provider.TxAborted:
		return TxAborted
	}
	return TxNone
}

// fence sends Fence to the providers the plan names, in parallel, and records
// what they answer.
func (t *txRun) fence(ctx context.Context, steps []txStep) {
	pick := func(i int, _ *member) bool { return steps[i] == stepFence }
	t.c.fanOut(ctx, t.parts, pick, func(ctx context.Context, i int, m *member) {
		cl, err := m.client(ctx)
		if err == nil {
			var state provider.TxState
			state, err = cl.Fence(ctx, t.txid)
			m.noteErr(cl, err)
			if err == nil {
				t.views[i] = viewOfState(state)
			}
		}
		if err != nil {
			t.errs[i] = named(m.name, "fence", err)
		}
	})
}

// ackDeadline bounds how long the coordinator waits for the providers' acks after
// the decision: each sends within one call timeout of the decision.
func (t *txRun) ackDeadline() *time.Timer { return time.NewTimer(2 * t.c.timeout) }

// awaitCommit waits until W providers hold the write (the rest continue in the
// background), every provider answered, or the ack deadline passed.
func (t *txRun) awaitCommit() (*PutResult, error) {
	c := t.c
	res := &PutResult{Mode: ModeAtomic, TxID: t.txid, Failed: map[string]error{}}
	total := len(t.parts) + len(t.base)
	answered := map[string]bool{}
	deadline := t.ackDeadline()
	defer deadline.Stop()
wait:
	for len(res.Acked) < c.w && len(answered) < total {
		select {
		case a := <-t.acks:
			answered[a.name] = true
			if a.err == nil {
				res.Acked = append(res.Acked, a.name)
			} else {
				res.Failed[a.name] = a.err
			}
		case <-deadline.C:
			break wait
		}
	}
	for _, m := range c.members {
		if !answered[m.name] {
			res.Pending = append(res.Pending, m.name)
		}
		if m.stock {
			res.Weakened = append(res.Weakened, m.name)
		}
	}
	if len(res.Acked) < c.w {
		return res, t.indeterminate(DecidedCommit, len(res.Acked))
	}
	return res, c.acknowledged(context.Background(), t.kvs)
}

// awaitAbort waits (bounded) for the providers to release or fence the
// transaction, so the caller may retry at once, and returns the definite failure
// naming what each provider said. A provider answering that it committed the
// transaction proves a split (only a provider that forgot a fence can cause it):
// that outcome is reported as indeterminate, never as a failure.
func (t *txRun) awaitAbort() error {
	deadline := t.ackDeadline()
	defer deadline.Stop()
	for range t.parts {
		select {
		case a := <-t.acks:
			if errors.Is(a.err, provider.ErrTxCommitted) {
				t.c.log.Error("atomic put: decided aborted but a provider committed it: its transaction records were rolled back",
					"provider", a.name, "txid", fmt.Sprintf("%x", t.txid))
				return t.indeterminate(DecidedAbort, 0)
			}
		case <-deadline.C:
			return t.aborted()
		}
	}
	return t.aborted()
}

func (t *txRun) aborted() error {
	return &TxError{TxID: t.txid, Decision: DecidedAbort, Views: t.viewMap(), Errs: t.errList(),
		Need: t.wc, Prepared: t.count(TxPrepared)}
}

func (t *txRun) count(views ...TxView) int {
	n := 0
	for _, v := range t.views {
		if slices.Contains(views, v) {
			n++
		}
	}
	return n
}

func (t *txRun) indeterminate(d Decision, acked int) error {
	return &TxError{TxID: t.txid, Decision: d, Views: t.viewMap(), Errs: t.errList(), Need: t.wc,
		Prepared: t.count(TxPrepared, TxCommitted), Acked: acked, Indeterminate: true}
}

func (t *txRun) viewMap() map[string]TxView {
	out := make(map[string]TxView, len(t.parts))
	for i, m := range t.parts {
		out[m.name] = t.views[i]
	}
	return out
}

// errList is the providers' failures, collected with go-multierror (which
// drops nils), as the plain list TxError exposes.
func (t *txRun) errList() []error {
	var errs *multierror.Error
	for _, err := range t.errs {
		if err != nil {
			errs = multierror.Append(errs, err)
		}
	}
	return errs.WrappedErrors()
}
