package quorum

import (
	"context"
	"slices"

	"github.com/hashicorp/go-multierror"

	"github.com/lssquorum/lss/provider"
)

// Get returns the client's entries under prefix, merged from a read quorum.
//
// Every provider is asked in parallel. Get returns once R valid replies are in,
// after waiting up to Config.Grace for the others so that a lagging minority is
// still compared; the calls still running are then cancelled. Once more than
// N-R providers failed, no other reply can complete the read quorum: Get waits
// the same grace for the others (so that they are still named as they are),
// then cancels the calls still running and fails, without waiting out the call
// timeout of a provider that never answers. A reply counts only
// if it verifies completely; a provider whose reply does not is Faulty and all of
// its data is ignored. Per key the highest verified version wins; at equal
// versions with different values, the acknowledged one (see merge).
//
// The result describes every provider (up to date, ahead, behind with which keys,
// diverged, rolled back, faulty or unreachable with the reason). With fewer than
// R valid replies the error is a *QuorumError naming every provider that failed
// and why. If the merge is below the watermark for any key (every answering
// provider lost acknowledged writes), or holds another value at the acknowledged
// version, the error is a *RollbackError; if a key's newest version is held
// with different values none known to be acknowledged, a *TieError. Values are
// decrypted as each reply verifies (encrypt.go); returning one that does not
// decrypt is an error wrapping envelope.ErrEnvelope. In those cases the result
// still describes the providers but holds no entries.
//
// In atomic mode only certified values are read (a valid commit proof bound
// to txid, key, version and stored bytes) and values of plain puts (written
// before the quorum switched to atomic); a value held without a proof, newer
// than every readable one of its key, is reported in GetResult.Pending, never
// returned, and its transaction is recovered in the background
// (settlePending). A certified value that fewer than W valid replies hold
// may belong to a put whose commit is still landing (the providers without it
// may hold it prepared, its Commit not applied yet): Get then settles that
// transaction first, the proof showing it decided committed, and reads again;
// if fewer than W valid replies still hold it after that (a provider holds it
// prepared, or one that lacks it could not be settled), the key is
// unconfirmed (*UnconfirmedError, below) unless this client saw it
// acknowledged, since a later read from the providers without it could return
// the older value; the background settler then lands it.
//
// In plain mode (and, in atomic mode, for a plain put's value), a version
// that fewer than W replies hold is first written back to the answering
// providers that lack it (see writeBack), so no later read can miss it; if it
// still is not held by W, and is not the version and value this client saw
// acknowledged, the error is an *UnconfirmedError and no entries are
// returned. The watermark rises only to versions that at least W
// providers hold with the same value (as good as acknowledged), and is saved to Config.Watermarks
// before Get returns; a failed save is a *WatermarkSaveError returned with the
// entries.
//
// With Config.AutoRepair the providers found behind are repaired in the
// background with Restore.
func (c *Client) Get(ctx context.Context, prefix string) (*GetResult, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	// Transactions of these keys this client decided but has not settled
	// everywhere are settled now, in the background.
	c.wakeFor(prefix)
	var (
		mark      map[string]Mark
		confirmed []map[string]int64
		replies   []reply
		pending   []PendingEntry
		m         mergeResult
	)
	// At most two reads: the second only after settling the commits the
	// first found landing.
	for attempt := 0; ; attempt++ {
		mark, confirmed = c.mark.snapshot(), c.confirmedMarks()
		replies, pending = c.readable(c.gather(ctx, prefix, c.r, c.grace))
		m = merge(replies, mark, c.w)
		// In plain mode every value short of W is written back instead.
		ls := landingTxs(m, replies, c.w)
		if attempt > 0 || len(ls) == 0 || !c.useAtomic() {
			break
		}
		c.settleLanding(ctx, ls, replies)
	}
	var landing map[string]bool
	if c.useAtomic() {
		ls := landingTxs(m, replies, c.w)
		landing = landingKeys(ls)
		// What the read's settle could not land, the settler lands once the
		// providers it needs answer.
		c.recoverLater(landingTxIDs(ls), "a committed put is held by fewer than W providers")
	}
	c.checkProviders(prefix, replies, m, confirmed, mark)
	res := &GetResult{Providers: m.states, Pending: pending}
	c.settlePending(pending)
	if err := c.readOutcome(prefix, m, replies, mark); err != nil {
		// What the providers confirmed is kept even so; the read's error is
		// what the caller needs.
		_ = c.saveWatermarks(ctx)
		return res, err
	}
	c.logProblems("get", m.states)
	plain := c.plainOnly()
	c.writeBack(ctx, &m, plain)
	// A certified value still short of W after the settle is held to the
	// plain rule's bar: acknowledged to this client, or an error. Fewer than
	// W answering providers hold it: one that lacks it may hold it prepared
	// (its Commit not applied, or it did not answer the settle), and a later
	// read from the providers without it would return the older value.
	short := func(e provider.Entry) bool { return plain(e) || landing[e.Key] }
	if keys := unconfirmed(m, mark, c.w, short); len(keys) > 0 {
		_ = c.saveWatermarks(ctx)
		return res, &UnconfirmedError{Prefix: prefix, Keys: keys, W: c.w}
	}
	// The providers' replies verified whether or not this client can decrypt
	// what they hold: the bookkeeping goes on, only the entries are withheld.
	openErr := checkOpened(replies, m.merged)
	if openErr == nil {
		res.Entries = m.merged
	}
	c.raiseConfirmed(m.merged, m.holders)
	if c.cfg.AutoRepair {
		c.repairInBackground(prefix, planRepair(m.merged, m.states), m.states)
	}
	if err := c.saveWatermarks(ctx); openErr == nil {
		return res, err
	}
	return res, openErr
}

// confirmedMarks snapshots what each provider confirmed holding, before a read,
// so that writes confirmed while the read is in flight do not count.
func (c *Client) confirmedMarks() []map[string]int64 {
	marks := make([]map[string]int64, len(c.members))
	for i, m := range c.members {
		marks[i] = m.confirmed.snapshot()
	}
	return marks
}

// checkProviders records in the merge's states the keys each provider holds
// below what it confirmed before (confirmed, from confirmedMarks) and, for the
// keys where the whole read is below the watermark mark, below the
// acknowledged version; then it raises each provider's confirmed versions to
// what it just returned.
func (c *Client) checkProviders(prefix string, replies []reply, m mergeResult, confirmed []map[string]int64, mark map[string]Mark) {
	below := rolledBackKeys(prefix, m, mark)
	for i, r := range replies {
		if r.err != nil {
			continue
		}
		st := &m.states[i]
		// A version held without a commit proof is not data, but it is
		// not a rollback either (it is reported pending).
		lost := checkWatermark(prefix, r.held(), versionsOnly(confirmed[i]))
		for _, k := range lost {
			st.RolledBack = append(st.RolledBack, KeyLoss{Key: k.Key, Confirmed: k.Watermark, Held: k.Merged})
		}
		for _, k := range below {
			if slices.ContainsFunc(lost, func(l KeyRollback) bool { return l.Key == k.Key }) {
				continue
			}
			held := int64(-1)
			if j, ok := findEntry(r.entries, k.Key); ok {
				held = r.entries[j].Version
			}
			st.BelowWatermark = append(st.BelowWatermark, KeyLoss{Key: k.Key, Confirmed: k.Watermark, Held: held})
		}
		st.Status = statusOf(*st)
		if len(lost) > 0 {
			c.log.Warn("quorum provider rolled back: it holds versions below what it confirmed before",
				"provider", r.name, "keys", len(lost))
		}
		c.members[i].confirmed.raiseEntries(r.entries)
	}
}

// versionsOnly is mark-like versions as Marks without digests, for
// checkWatermark.
func versionsOnly(vs map[string]int64) map[string]Mark {
	out := make(map[string]Mark, len(vs))
	for k, v := range vs {
		out[k] = Mark{Version: v}
	}
	return out
}

// rolledBackKeys are the keys under prefix where the merge is below the
// watermark mark, tied keys left out (a tie is reported as such).
func rolledBackKeys(prefix string, m mergeResult, mark map[string]Mark) []KeyRollback {
	keys := checkWatermark(prefix, m.merged, mark)
	return slices.DeleteFunc(keys, func(k KeyRollback) bool { return isTied(m.ties, k.Key) })
}

// readOutcome decides whether the merge m may be returned: R valid replies,
// nothing below the watermark mark, and no unresolved tie.
func (c *Client) readOutcome(prefix string, m mergeResult, replies []reply, mark map[string]Mark) error {
	var errs *multierror.Error
	var answered, unheard []string
	for _, r := range replies {
		if r.err != nil {
			errs = multierror.Append(errs, r.err)
			unheard = append(unheard, r.name)
		} else {
			answered = append(answered, r.name)
		}
	}
	if len(answered) < c.r {
		return &QuorumError{Op: "get", Need: c.r, Got: len(answered), N: c.n, Errs: errs.WrappedErrors()}
	}
	if keys := rolledBackKeys(prefix, m, mark); len(keys) > 0 {
		return &RollbackError{Prefix: prefix, Keys: keys, Answered: answered, Unheard: unheard}
	}
	if len(m.ties) > 0 {
		return &TieError{Prefix: prefix, Ties: m.ties}
	}
	return nil
}

// logProblems logs every provider that is not up to date: a faulty one as a
// warning (it is lying or corrupted), the rest for debugging (they are expected
// and repaired).
func (c *Client) logProblems(op string, states []ProviderState) {
	for _, s := range states {
		switch s.Status {
		case UpToDate:
		case Faulty:
			c.log.Warn("quorum provider faulty, its data is ignored", "op", op, "provider", s.Name, "err", s.Err)
		case Unreachable:
			c.log.Debug("quorum provider unreachable", "op", op, "provider", s.Name, "err", s.Err)
		default:
			c.log.Debug("quorum provider "+s.Status.String(), "op", op, "provider", s.Name,
				"behind", len(s.Behind), "missing", len(s.Missing), "ahead", len(s.Ahead), "diverged", len(s.Diverged))
		}
	}
}

// maxLandingSettle bounds the transactions one read settles before reading
// again: a provider answering with many made-up prepared copies of certified
// values must not make a read run an unbounded amount of recovery.
const maxLandingSettle = 16

// settleLanding recovers, before a read reads again, the transactions whose
// commit it may have found landing (see landingTx): each is decided committed
// (a provider showed its proof), so the recovery commits it where it is
// prepared. It asks only the providers whose reply to the read was valid: one
// that did not answer the read would hold it up for a whole call timeout; what
// it holds is left to the coordinator's settler or a later recovery. What the
// settle could not do shows in the second read: a value still short of W is
// not returned unless this client saw it acknowledged (Get's
// *UnconfirmedError). Bounded by three call timeouts.
func (c *Client) settleLanding(ctx context.Context, ls []landingTx, replies []reply) {
	ls = ls[:min(len(ls), maxLandingSettle)]
	txids := make([][]byte, len(ls))
	proven := make(map[string][]string, len(ls))
	for i, l := range ls {
		txids[i] = l.TxID
		proven[string(l.TxID)] = l.ProvenBy
	}
	rctx, cancel := context.WithTimeout(ctx, 3*c.timeout)
	defer cancel()
	answered := map[*member]bool{}
	for i, r := range replies {
		if r.err == nil {
			answered[c.members[i]] = true
		}
	}
	if _, err := c.recoverProven(rctx, txids, proven, func(m *member) bool { return answered[m] }); err != nil {
		c.log.Info("quorum read: a committed put found landing could not be settled everywhere", "err", err)
	}
}

// landingTxIDs is the txids of ls.
func landingTxIDs(ls []landingTx) [][]byte {
	ids := make([][]byte, len(ls))
	for i, l := range ls {
		ids[i] = l.TxID
	}
	return ids
}

// landingKeys is the set of keys of the transactions of ls.
func landingKeys(ls []landingTx) map[string]bool {
	keys := map[string]bool{}
	for _, l := range ls {
		for _, k := range l.Keys {
			keys[k] = true
		}
	}
	return keys
}
