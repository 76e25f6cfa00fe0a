package quorum

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lssquorum/lss/provider"
)

// Self-settling (docs/design.md, "Self-settling"): a decided transaction is
// settled by this client until every participant has committed (or been
// restored) or aborted. What the coordinator could not deliver in its one
// attempt per provider is handed to the settler, which retries it in the
// background with backoff until Config.SettleDeadline and logs what it does.
// A put settles a provider's pending transactions on its keys first, in that
// provider's own goroutine (so a slow or lost commit on one provider delays no
// other provider's prepare), and a Get wakes the settler for its keys. An
// undecided (indeterminate) transaction is handed over too: the settler
// recovers it once its providers answer.
//
// Each provider's pending transactions are settled one at a time, in the
// order they were handed over: a later transaction of the same keys can only
// be applied once the earlier one released them.

// Backoff between the settler's attempts at one transaction.
const (
	settleBackoffMin = 50 * time.Millisecond
	settleBackoffMax = 2 * time.Second
)

// DefaultSettleDeadline is how long a transaction is retried in the background
// when Config.SettleDeadline is zero.
const DefaultSettleDeadline = time.Minute

// settleJob is one transaction that some participant has not settled yet. Its
// mutable fields are guarded by settler.mu.
type settleJob struct {
	t   *txRun
	seq uint64
	// decision is DecidedCommit or DecidedAbort (settle the providers in left),
	// or Undecided (recover the txid: fence, decide, settle).
	decision Decision
	left     map[*member]bool
	attempts int
	next     time.Time
	deadline time.Time
	lastErr  error
	// recovered is set once an undecided job's recovery left nothing prepared.
	recovered bool
	// notBefore holds back the recovery of a transaction another process
	// coordinated until it is no longer young (see adopt).
	notBefore time.Time
}

// settler holds the transactions left to settle and runs at most one
// background loop over them.
type settler struct {
	mu      sync.Mutex
	jobs    map[string]*settleJob
	seq     uint64
	running bool
	// wake tells the loop a job was added or is due now.
	wake chan struct{}
	// closing ends when Close is called (close cancels it): the loop's
	// regular attempts run under it, so that Close does not first wait for
	// one of them (a recovery may take three call timeouts) before the last
	// attempt it bounds by one.
	closing context.Context
	close   context.CancelFunc
	// recovering is a one-slot semaphore: one recovery of undecided jobs at a
	// time.
	recovering chan struct{}
	// pendingSeen holds when each transaction met as a pending value (read
	// without a commit proof) was handed over for recovery (settlePending).
	pendingSeen map[string]time.Time
}

func newSettler() settler {
	closing, cancel := context.WithCancel(context.Background())
	return settler{jobs: map[string]*settleJob{}, wake: make(chan struct{}, 1), closing: closing, close: cancel,
		recovering: make(chan struct{}, 1), pendingSeen: map[string]time.Time{}}
}

// backoff is the wait before attempt number n+1.
func backoff(n int) time.Duration {
	d := settleBackoffMin << min(n, 16)
	return min(d, settleBackoffMax)
}

// handOff gives the settler what t's coordinator could not finish: provider m
// still to settle by decision d, or (m nil, d Undecided) the whole
// transaction to recover.
func (c *Client) handOff(t *txRun, d Decision, m *member, cause error) {
	s := &c.settler
	now := time.Now()
	s.mu.Lock()
	j := s.jobs[string(t.txid)]
	if j == nil {
		s.seq++
		j = &settleJob{t: t, seq: s.seq, decision: d, left: map[*member]bool{}, next: now.Add(backoff(0)),
			deadline: now.Add(c.settleDeadline)}
		s.jobs[string(t.txid)] = j
	}
	if m != nil {
		j.left[m] = true
	}
	start := !s.running
	s.running = true
	s.mu.Unlock()
	switch {
	case m != nil:
		c.log.Warn("atomic put: not settled yet, retrying in the background",
			"txid", fmt.Sprintf("%x", t.txid), "decision", d, "provider", m.name, "err", cause)
	case cause != nil:
		c.log.Warn("atomic put: undecided, recovering it in the background",
			"txid", fmt.Sprintf("%x", t.txid), "err", cause)
	default:
		// Adopted: left by another process, or met as a pending value.
		c.log.Info("atomic: transaction handed to the background settler for recovery",
			"txid", fmt.Sprintf("%x", t.txid))
	}
	if !start {
		c.settler.poke()
		return
	}
	if !c.goSettler(c.settleLoop) {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
		c.log.Error("atomic put: client closed, transaction left for recovery (the next Open or lss-quorum recover settles it)",
			"txid", fmt.Sprintf("%x", t.txid), "decision", d)
	}
}

// poke wakes the loop without blocking.
func (s *settler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// settleLoop retries the jobs as they fall due, until there are none or the
// client closes; then it makes one last attempt at every job, bounded as a
// whole by Config.Timeout, and logs what it leaves for recovery. Close cancels
// an attempt in progress: what it did not finish the last attempt retries.
func (c *Client) settleLoop() {
	s := &c.settler
	for {
		s.mu.Lock()
		if len(s.jobs) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		next := time.Time{}
		for _, j := range s.jobs {
			if next.IsZero() || j.next.Before(next) {
				next = j.next
			}
		}
		s.mu.Unlock()
		timer := time.NewTimer(time.Until(next))
		select {
		case <-timer.C:
			c.settleDue(s.closing, nil, func(j *settleJob) bool { return !time.Now().Before(j.next) })
		case <-s.wake:
			timer.Stop()
		case <-s.closing.Done():
			timer.Stop()
			last, cancel := context.WithTimeout(context.Background(), c.timeout)
			c.settleDue(last, nil, func(*settleJob) bool { return true })
			cancel()
			s.mu.Lock()
			now := time.Now()
			for _, j := range s.jobs {
				if now.Before(j.notBefore) {
					// Another process's transaction, young enough that its own
					// coordinator may still be deciding it: leaving it is right.
					c.log.Info("atomic: left a young transaction of another process to its coordinator",
						"txid", fmt.Sprintf("%x", j.t.txid))
					continue
				}
				c.log.Error("atomic put: not settled when the client closed; left for recovery (the next Open or lss-quorum recover settles it)",
					"txid", fmt.Sprintf("%x", j.t.txid), "decision", j.decision, "providers", j.names(), "err", j.lastErr)
			}
			s.running = false
			s.mu.Unlock()
			return
		}
	}
}

// names lists the providers still to settle; the caller holds settler.mu.
func (j *settleJob) names() string {
	var names []string
	for m := range j.left {
		names = append(names, m.name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// touches says whether the job writes a key match accepts.
func (j *settleJob) touches(match func(string) bool) bool {
	for _, e := range j.t.entries {
		if match(e.Key) {
			return true
		}
	}
	return false
}

// settleDue makes one attempt at the jobs which selects: on every provider
// (only on only, if set) in parallel, each provider's jobs in order, each call
// bounded by Config.Timeout; then the undecided jobs, by recovery.
func (c *Client) settleDue(ctx context.Context, only *member, which func(*settleJob) bool) {
	s := &c.settler
	s.mu.Lock()
	var due []*settleJob
	for _, j := range s.jobs {
		if which(j) {
			due = append(due, j)
		}
	}
	s.mu.Unlock()
	if len(due) == 0 {
		return
	}
	slices.SortFunc(due, func(a, b *settleJob) int { return cmp.Compare(a.seq, b.seq) })
	var wg sync.WaitGroup
	for _, m := range c.members {
		if only != nil && m != only {
			continue
		}
		wg.Go(func() { c.settleMember(ctx, m, due) })
	}
	wg.Wait()
	if only == nil {
		c.recoverUndecided(ctx, due)
	}
	c.retire(due, only == nil)
}

// settleMember settles m's share of jobs, in order, stopping at the first
// failure (the later ones may need the keys the failed one holds reserved).
// One caller at a time settles a given provider.
func (c *Client) settleMember(ctx context.Context, m *member, jobs []*settleJob) {
	select {
	case m.settling <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-m.settling }()
	s := &c.settler
	for _, j := range jobs {
		s.mu.Lock()
		mine := j.left[m] && j.decision != Undecided
		s.mu.Unlock()
		if !mine {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, c.timeout)
		err := c.settleOne(cctx, j, m)
		cancel()
		s.mu.Lock()
		if err == nil {
			delete(j.left, m)
		} else {
			j.lastErr = err
		}
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// recoverUndecided recovers the undecided jobs among jobs, with one round of
// Status for all of them, bounded by three call timeouts.
func (c *Client) recoverUndecided(ctx context.Context, jobs []*settleJob) {
	var txids [][]byte
	now := time.Now()
	s := &c.settler
	s.mu.Lock()
	for _, j := range jobs {
		if j.decision == Undecided && !now.Before(j.notBefore) {
			txids = append(txids, j.t.txid)
		}
	}
	s.mu.Unlock()
	if len(txids) == 0 {
		return
	}
	select {
	case s.recovering <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-s.recovering }()
	rctx, cancel := context.WithTimeout(ctx, 3*c.timeout)
	done, err := c.recoverTxIDs(rctx, txids)
	cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range jobs {
		if j.decision != Undecided || now.Before(j.notBefore) {
			continue
		}
		if done[string(j.t.txid)] {
			j.recovered = true
		} else {
			j.lastErr = err
		}
	}
}

// retire drops the jobs that are done, and (when counting, not for a put's
// own flush of one provider) the ones past their deadline, and sets the next
// attempt of the others.
func (c *Client) retire(jobs []*settleJob, counting bool) {
	s := &c.settler
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, j := range jobs {
		if s.jobs[string(j.t.txid)] != j {
			continue
		}
		txid := fmt.Sprintf("%x", j.t.txid)
		switch {
		case j.recovered || (len(j.left) == 0 && j.decision != Undecided):
			delete(s.jobs, string(j.t.txid))
			c.log.Info("atomic put: settled in the background", "txid", txid, "attempts", j.attempts+1)
		case !counting:
		case now.After(j.deadline):
			delete(s.jobs, string(j.t.txid))
			c.log.Error("atomic put: gave up settling in the background; left for recovery (the next Open or lss-quorum recover settles it)",
				"txid", txid, "decision", j.decision, "providers", j.names(), "err", j.lastErr)
		default:
			j.attempts++
			j.next = now.Add(backoff(j.attempts))
			c.log.Debug("atomic put: settling failed, will retry", "txid", txid, "attempt", j.attempts, "err", j.lastErr)
		}
	}
}

// flushMember settles, on m only, the pending transactions that write any of
// keys, before m is sent a new write of them: a reservation this client could
// release must not make m refuse the write. Bounded by ctx; it never fails
// the caller (what is left stays with the settler).
func (c *Client) flushMember(ctx context.Context, m *member, keys []string) {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	c.settleDue(ctx, m, func(j *settleJob) bool { return j.left[m] && j.touches(func(k string) bool { return set[k] }) })
}

// wakeFor makes the jobs writing keys under prefix due now and wakes the
// settler: a Get does not wait for them (the merge takes the highest version
// whatever a lagging provider holds), but it should not have to meet them
// again.
func (c *Client) wakeFor(prefix string) {
	s := &c.settler
	s.mu.Lock()
	found := false
	for _, j := range s.jobs {
		if j.touches(func(k string) bool { return strings.HasPrefix(k, prefix) }) {
			j.next, found = time.Now(), true
		}
	}
	s.mu.Unlock()
	if found {
		s.poke()
	}
}

// settleOne brings provider m to the job's decision.
func (c *Client) settleOne(ctx context.Context, j *settleJob, m *member) error {
	switch j.decision {
	case DecidedCommit:
		err := j.t.settleCommitted(ctx, m, TxNoAnswer)
		if errors.Is(err, errDiverged) {
			c.log.Error("atomic put: a provider holds another value at the committed version; no retry can settle it",
				"provider", m.name, "txid", fmt.Sprintf("%x", j.t.txid), "err", err)
			return nil
		}
		return named(m.name, "commit", err)
	case DecidedAbort:
		err := j.t.abortOne(ctx, m)
		if errors.Is(err, provider.ErrTxCommitted) {
			c.log.Error("atomic put: decided aborted but a provider committed it: its transaction records were rolled back",
				"provider", m.name, "txid", fmt.Sprintf("%x", j.t.txid))
			return nil // nothing more to do here; audit names the split
		}
		return named(m.name, "abort", err)
	}
	return nil
}

// pendingTxIDs lists the transactions the settler still works on.
func (c *Client) pendingTxIDs() [][]byte {
	s := &c.settler
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, j := range s.jobs {
		out = append(out, j.t.txid)
	}
	return out
}

// knowsTx says whether txid is one the settler is working on.
func (c *Client) knowsTx(txid []byte) bool {
	s := &c.settler
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.jobs[string(txid)]
	return ok
}

// settleCommitted brings one provider to the committed transaction: Commit where
// it may have prepared, Restore where it never will, and a plain Put where it
// turns out to speak only the base protocol.
func (t *txRun) settleCommitted(ctx context.Context, m *member, v TxView) error {
	if m.stock {
		return t.putPlainEntries(ctx, m)
	}
	cl, err := m.client(ctx)
	if err != nil {
		return err
	}
	commit := func() error {
		err := cl.Commit(ctx, t.txid, t.commitProofs())
		m.noteErr(cl, err)
		if err == nil {
			m.confirmed.raiseKVs(t.kvs)
		}
		return err
	}
	switch v {
	case TxCommitted:
		return nil
	case TxPrepared, TxNoAnswer:
		err = commit()
		if !errors.Is(err, provider.ErrTxUnknown) && !errors.Is(err, provider.ErrCommitAborted) {
			return err
		}
	}
	err = t.restoreOne(ctx, cl)
	if errors.Is(err, errKeptBelow) {
		// A reservation kept a key below our version. It may be our own Prepare,
		// landed after the Commit found nothing (a Restore reply does not say who
		// holds a key): the transaction is decided committed, so Commit again.
		if cerr := commit(); cerr == nil {
			return nil
		}
	}
	return err
}

// errDiverged: a provider holds a key of the transaction at its version with
// another value. Retrying cannot change that (versions only move forward);
// Get and audit name the provider as diverged.
var errDiverged = errors.New("diverged")

// errKeptBelow: a Restore kept a key below the transaction's version (a
// reservation holds it).
var errKeptBelow = errors.New("restore kept a key below the transaction's version")

// restoreOne writes the transaction's entries forward-only. It succeeds when the
// provider ends up holding every key at the transaction's version with the
// transaction's value, or at a newer version; a key held at the same version with
// another value is a divergence, never counted as holding the write.
func (t *txRun) restoreOne(ctx context.Context, cl *provider.Client) error {
	// With txid and proofs: the provider applies them all or nothing.
	_, kept, err := cl.Restore(ctx, t.c.certified(t.txid, t.entries))
	if err != nil {
		return err
	}
	want := make(map[string]provider.Entry, len(t.entries))
	for _, e := range t.entries {
		want[e.Key] = e
	}
	for _, k := range kept {
		e := want[k.Key]
		switch {
		case k.Version > e.Version:
		case k.Version == e.Version && bytes.Equal(k.Stored, e.Stored):
		case k.Version == e.Version:
			return fmt.Errorf("%w: restore kept %q: version %d already holds another value", errDiverged, k.Key, k.Version)
		default:
			return fmt.Errorf("%w: %q at version %d", errKeptBelow, k.Key, k.Version)
		}
	}
	return nil
}

func (t *txRun) abortOne(ctx context.Context, m *member) error {
	cl, err := m.client(ctx)
	if err != nil {
		return err
	}
	err = cl.Abort(ctx, t.txid)
	m.noteErr(cl, err)
	if errors.Is(err, provider.ErrTxCommitted) {
		return t.confirmCommitted(ctx, m, cl, err)
	}
	return err
}

// errAbortNotCommitted: an Abort was refused as committed, but the provider's
// authenticated answer to a Fence shows the transaction prepared there.
var errAbortNotCommitted = errors.New("abort refused as committed, but the provider holds the transaction prepared")

// confirmCommitted checks an Abort refused as committed (refused) with a Fence.
// lssd says "committed" to an Abort with a status code, which nothing
// authenticates, so the network could say it for the provider; a Fence's reply
// is authenticated, and it leaves a committed or prepared record as it is. Only
// a Fence showing the transaction committed keeps refused (a provider that
// rolled back its records: the split audit names); one showing it aborted means
// the abort took; anything else is a failed abort, retried like any other.
func (t *txRun) confirmCommitted(ctx context.Context, m *member, cl *provider.Client, refused error) error {
	state, err := cl.Fence(ctx, t.txid)
	m.noteErr(cl, err)
	switch {
	case err != nil:
		return fmt.Errorf("abort refused as committed, and the fence that would confirm it failed: %w", err)
	case state == provider.TxCommitted:
		return refused
	case state == provider.TxAborted:
		return nil
	}
	return fmt.Errorf("%w (%v)", errAbortNotCommitted, state)
}
