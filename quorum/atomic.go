package quorum

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-multierror"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
)

// TxIDSize is the length of the random txid the coordinator picks for each put.
const TxIDSize = 32

// extSupport remembers the providers that answered an extension call with
// UNIMPLEMENTED (stock servers). They take no part in the atomic commit: they get
// the base protocol's Put once a transaction is decided committed.
type extSupport struct {
	mu       sync.Mutex
	baseOnly map[string]bool
}

func (e *extSupport) markBaseOnly(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.baseOnly == nil {
		e.baseOnly = make(map[string]bool)
	}
	e.baseOnly[name] = true
}

func (e *extSupport) isBaseOnly(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.baseOnly[name]
}

// noteSupport records a provider as base-protocol-only when err says so.
func (c *Client) noteSupport(m *member, err error) {
	if errors.Is(err, provider.ErrNotSupported) {
		c.ext.markBaseOnly(m.name)
	}
}

// useAtomic says whether Put uses the atomic commit: always in ModeAtomic, never
// in ModePlain, and in ModeAuto unless every provider is known to speak only the
// base protocol.
func (c *Client) useAtomic() bool {
	switch c.cfg.Mode {
	case ModePlain:
		return false
	case ModeAtomic:
		return true
	}
	for _, m := range c.members {
		if !c.ext.isBaseOnly(m.name) {
			return true
		}
	}
	return false
}

// participants splits the members into those taking part in the atomic commit
// and the base-protocol-only ones.
func (c *Client) participants() (parts, base []*member) {
	for _, m := range c.members {
		if c.ext.isBaseOnly(m.name) {
			base = append(base, m)
		} else {
			parts = append(parts, m)
		}
	}
	return parts, base
}

// seal returns the stored form of kvs, sorted by key: the same bytes go to every
// provider.
func (c *Client) seal(kvs []provider.KV) []provider.Entry {
	es := make([]provider.Entry, len(kvs))
	for i, kv := range kvs {
		es[i] = provider.Entry{Key: kv.Key, Version: kv.Version, Value: kv.Value,
			Stored: wire.SealValue(c.cfg.HMACSecret, kv.Key, kv.Version, kv.Value)}
	}
	slices.SortFunc(es, func(a, b provider.Entry) int { return strings.Compare(a.Key, b.Key) })
	return es
}

func newTxID() []byte {
	txid := make([]byte, TxIDSize)
	if _, err := rand.Read(txid); err != nil {
		panic(fmt.Sprintf("quorum: no randomness for a txid: %v", err))
	}
	return txid
}

// txAnswer is one provider's answer to Prepare.
type txAnswer struct {
	i    int
	view TxView
	err  error
}

// putAtomic writes kvs all-or-nothing across the providers with a two-phase
// commit (DESIGN.md, "Put"): Prepare on every participant; once W prepared it is
// decided committed, so Commit; with fewer, Fence the silent ones, count again,
// and commit, abort, or report the outcome as indeterminate for Recover.
func (c *Client) putAtomic(ctx context.Context, kvs []provider.KV) (*PutResult, error) {
	parts, base := c.participants()
	wc := atomicQuorum(c.w, len(parts))
	if wc == 0 {
		return c.putPlain(ctx, kvs)
	}
	tx := &txRun{c: c, txid: c.newTxID(), entries: c.seal(kvs), kvs: kvs, parts: parts, base: base, wc: wc}
	return tx.run(ctx)
}

// txRun is one atomic put in progress.
type txRun struct {
	c       *Client
	txid    []byte
	entries []provider.Entry
	kvs     []provider.KV
	parts   []*member
	base    []*member
	wc      int

	views []TxView
	errs  []error
	// heard marks the providers whose Prepare answered before the decision; the
	// others are settled by the follow-up when their answer lands.
	heard []bool
}

func (t *txRun) names(pick func(int) bool) []string {
	var out []string
	for i, m := range t.parts {
		if pick(i) {
			out = append(out, m.name)
		}
	}
	return out
}

func (t *txRun) run(ctx context.Context) (*PutResult, error) {
	c := t.c
	// Every provider call runs under its own deadline and survives the caller's
	// cancellation: a decided transaction must still reach its providers.
	bg := context.WithoutCancel(ctx)
	answers := make(chan txAnswer, len(t.parts))
	for i, m := range t.parts {
		if !c.goBackground(func() { answers <- t.prepare(bg, i, m) }) {
			return nil, ErrClosed
		}
	}

	t.views = make([]TxView, len(t.parts))
	t.errs = make([]error, len(t.parts))
	t.heard = make([]bool, len(t.parts))
	pending := len(t.parts)
	// Gather until commit is decided (never wait for the slowest provider once W
	// prepared) or every provider answered.
gather:
	for pending > 0 && decide(len(t.parts), t.wc, t.views) != DecidedCommit {
		select {
		case a := <-answers:
			pending--
			t.views[a.i], t.errs[a.i], t.heard[a.i] = a.view, a.err, true
		case <-ctx.Done():
			break gather
		}
	}
	if c.stopAt(stagePrepared) {
		return nil, errCoordinatorStopped
	}

	d := decide(len(t.parts), t.wc, t.views)
	if d == Undecided {
		// A silent provider may have prepared: ask it safely, never abort blindly.
		t.fence(bg, planTx(Undecided, t.views))
		d = decide(len(t.parts), t.wc, t.views)
	}
	if c.stopAt(stageDecided) {
		return nil, errCoordinatorStopped
	}
	// Prepares still in flight get the decision's follow-up when they land.
	if pending > 0 {
		c.goBackground(func() {
			for ; pending > 0; pending-- {
				a := <-answers
				t.followUp(bg, d, a)
			}
		})
	}

	switch d {
	case DecidedCommit:
		return t.commit(bg)
	case DecidedAbort:
		return nil, t.abort(bg)
	}
	return nil, t.indeterminate(Undecided, 0)
}

func (t *txRun) prepare(ctx context.Context, i int, m *member) txAnswer {
	ctx, cancel := context.WithTimeout(ctx, t.c.timeout)
	defer cancel()
	cl, err := m.client(ctx)
	if err != nil {
		return txAnswer{i: i, view: TxNoAnswer, err: err}
	}
	state, err := cl.Prepare(ctx, t.txid, t.entries)
	t.c.noteSupport(m, err)
	return txAnswer{i: i, view: viewOfPrepare(state, err), err: named(m.name, "prepare", err)}
}

// viewOfPrepare reads a Prepare answer: a refusal by the version rule or a
// reservation means no record was made; any other failure may hide a prepare.
func viewOfPrepare(state provider.TxState, err error) TxView {
	switch {
	case errors.Is(err, provider.ErrConflict), errors.Is(err, provider.ErrNotSupported):
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
	var wg sync.WaitGroup
	for i, m := range t.parts {
		if steps[i] != stepFence {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, t.c.timeout)
			defer cancel()
			cl, err := m.client(ctx)
			if err == nil {
				var state provider.TxState
				state, err = cl.Fence(ctx, t.txid)
				if err == nil {
					t.views[i] = viewOfState(state)
				}
			}
			if err != nil {
				t.errs[i] = named(m.name, "fence", err)
			}
		})
	}
	wg.Wait()
}

// followUp settles a provider whose Prepare answered after the decision.
func (t *txRun) followUp(ctx context.Context, d Decision, a txAnswer) {
	m := t.parts[a.i]
	ctx, cancel := context.WithTimeout(ctx, t.c.timeout)
	defer cancel()
	var err error
	switch {
	case d == DecidedCommit:
		err = t.settleCommitted(ctx, m, a.view)
	case d == DecidedAbort && a.view == TxPrepared:
		err = t.abortOne(ctx, m)
	}
	if err != nil {
		t.c.log.Warn("atomic put: late provider not settled; Recover or repair will", "provider", m.name, "txid", fmt.Sprintf("%x", t.txid), "err", err)
	}
}

// settleCommitted brings one provider to the committed transaction: Commit where
// it may have prepared, Restore where it never will.
func (t *txRun) settleCommitted(ctx context.Context, m *member, v TxView) error {
	cl, err := m.client(ctx)
	if err != nil {
		return err
	}
	switch v {
	case TxCommitted:
		return nil
	case TxPrepared, TxNoAnswer:
		err = cl.Commit(ctx, t.txid)
		if !errors.Is(err, provider.ErrTxUnknown) && !errors.Is(err, provider.ErrTxAborted) {
			return err
		}
	}
	return t.restoreOne(ctx, cl)
}

// restoreOne writes the transaction's entries forward-only; it succeeds when the
// provider ends up holding every key at (at least) the transaction's version.
func (t *txRun) restoreOne(ctx context.Context, cl *provider.Client) error {
	_, kept, err := cl.Restore(ctx, t.entries)
	if err != nil {
		return err
	}
	want := make(map[string]int64, len(t.entries))
	for _, e := range t.entries {
		want[e.Key] = e.Version
	}
	for _, k := range kept {
		if k.Version < want[k.Key] {
			return fmt.Errorf("restore kept %q at version %d (reserved by %x)", k.Key, k.Version, k.ReservedBy)
		}
	}
	return nil
}

func (t *txRun) abortOne(ctx context.Context, m *member) error {
	cl, err := m.client(ctx)
	if err != nil {
		return err
	}
	return cl.Abort(ctx, t.txid)
}

// commit sends the decision: Commit (or Restore) to every participant and the
// base protocol's Put to the base-only providers. Put succeeds once W of them
// hold the write; the rest continue in the background.
func (t *txRun) commit(ctx context.Context) (*PutResult, error) {
	c := t.c
	type ack struct {
		name string
		err  error
	}
	acks := make(chan ack, len(t.parts)+len(t.base))
	total := 0
	send := func(m *member, op string, fn func(context.Context) error) {
		total++
		ran := c.goBackground(func() {
			cctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			acks <- ack{m.name, named(m.name, op, fn(cctx))}
		})
		if !ran {
			acks <- ack{m.name, named(m.name, op, ErrClosed)}
		}
	}
	// A participant found base-only during the prepares is written like the
	// base-only ones.
	base := slices.Clone(t.base)
	for i, m := range t.parts {
		switch {
		case c.ext.isBaseOnly(m.name):
			base = append(base, m)
		case t.heard[i]:
			v := t.views[i]
			send(m, "commit", func(ctx context.Context) error { return t.settleCommitted(ctx, m, v) })
		}
		// Otherwise its Prepare is still in flight: the follow-up settles it.
	}
	for _, m := range base {
		send(m, "put", func(ctx context.Context) error {
			cl, err := m.client(ctx)
			if err != nil {
				return err
			}
			return cl.PutEntries(ctx, t.entries)
		})
	}
	res := &PutResult{Mode: ModeAtomic, TxID: t.txid, Failed: map[string]error{}}
	for _, m := range base {
		res.Weakened = append(res.Weakened, m.name)
	}
	answered := map[string]bool{}
	for len(res.Acked) < c.w && len(answered) < total {
		a := <-acks // every sender is bounded by c.timeout
		answered[a.name] = true
		if a.err == nil {
			res.Acked = append(res.Acked, a.name)
		} else {
			res.Failed[a.name] = a.err
		}
	}
	for _, m := range c.members {
		if !answered[m.name] {
			res.Pending = append(res.Pending, m.name)
		}
	}
	if len(res.Acked) < c.w {
		return res, t.indeterminate(DecidedCommit, len(res.Acked))
	}
	c.mark.raiseKVs(t.kvs)
	return res, nil
}

// abort releases the providers that prepared and returns the definite failure,
// naming what each provider said.
func (t *txRun) abort(ctx context.Context) error {
	var wg sync.WaitGroup
	for i, m := range t.parts {
		if t.views[i] != TxPrepared {
			continue
		}
		wg.Go(func() {
			actx, cancel := context.WithTimeout(ctx, t.c.timeout)
			defer cancel()
			if err := t.abortOne(actx, m); err != nil {
				t.c.log.Warn("atomic put: abort not delivered; Recover will", "provider", m.name, "err", err)
			}
		})
	}
	wg.Wait()
	return &TxError{TxID: t.txid, Decision: DecidedAbort, Views: t.viewMap(), Errs: t.errList(),
		Need: t.wc, Prepared: len(t.names(func(i int) bool { return t.views[i] == TxPrepared }))}
}

func (t *txRun) indeterminate(d Decision, acked int) error {
	return &TxError{TxID: t.txid, Decision: d, Views: t.viewMap(), Errs: t.errList(), Need: t.wc,
		Prepared: len(t.names(func(i int) bool { return t.views[i] == TxPrepared || t.views[i] == TxCommitted })),
		Acked:    acked, Indeterminate: true}
}

func (t *txRun) viewMap() map[string]TxView {
	out := make(map[string]TxView, len(t.parts))
	for i, m := range t.parts {
		out[m.name] = t.views[i]
	}
	return out
}

func (t *txRun) errList() *multierror.Error {
	var errs *multierror.Error
	for _, err := range t.errs {
		if err != nil {
			errs = multierror.Append(errs, err)
		}
	}
	return errs
}
