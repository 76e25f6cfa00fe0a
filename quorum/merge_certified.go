package quorum

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lssquorum/lss/provider"
)

// PendingEntry is a value that some providers hold newer than every certified
// value of its key, but without a valid commit proof: an atomic put not (yet)
// known to be committed. It is never returned as data; settling its
// transaction (Recover) either certifies it or leaves it to be overwritten.
type PendingEntry struct {
	Key     string `json:"key"`
	Version int64  `json:"version"`
	// TxID is the transaction that wrote it, as the provider reports it.
	TxID []byte `json:"txid,omitempty"`
	// Providers hold it.
	Providers []string `json:"providers"`
}

// splitCertified removes from every valid reply the entries certified rejects
// (in atomic mode: no valid commit proof), so only certified values are
// merged, and reports those newer than every certified value of their key as
// pending, per (key, version, txid), in key order. Uncertified entries at or
// below a certified version are stale and dropped silently.
func splitCertified(replies []reply, certified func(provider.Entry) bool, txid func(provider.Entry) []byte) ([]reply, []PendingEntry) {
	out := make([]reply, len(replies))
	top := map[string]int64{} // highest certified version per key
	var dropped []struct {
		name string
		e    provider.Entry
	}
	for i, r := range replies {
		out[i] = r
		if r.err != nil {
			continue
		}
		keep := make([]provider.Entry, 0, len(r.entries))
		var withheld []provider.Entry
		for _, e := range r.entries {
			if certified(e) {
				keep = append(keep, e)
				if v, ok := top[e.Key]; !ok || e.Version > v {
					top[e.Key] = e.Version
				}
				continue
			}
			withheld = append(withheld, e)
			dropped = append(dropped, struct {
				name string
				e    provider.Entry
			}{r.name, e})
		}
		out[i].entries, out[i].withheld = keep, withheld
	}
	var pending []PendingEntry
	for _, d := range dropped {
		if v, ok := top[d.e.Key]; ok && d.e.Version <= v {
			continue
		}
		id := txid(d.e)
		j := slices.IndexFunc(pending, func(p PendingEntry) bool {
			return p.Key == d.e.Key && p.Version == d.e.Version && string(p.TxID) == string(id)
		})
		if j < 0 {
			pending = append(pending, PendingEntry{Key: d.e.Key, Version: d.e.Version, TxID: id})
			j = len(pending) - 1
		}
		pending[j].Providers = append(pending[j].Providers, d.name)
	}
	slices.SortStableFunc(pending, func(a, b PendingEntry) int { return strings.Compare(a.Key, b.Key) })
	return out, pending
}

// readable keeps, in atomic mode, only the entries of the replies that are
// certified (a valid commit proof, checked by the provider client) or were
// written by a plain put (no txid: the value MAC binds the txid, so a
// provider cannot strip a prepared entry's), and reports the newer
// transactional entries without a proof as pending; in plain mode every
// verified entry is readable.
//
// A plain value in an atomic quorum was written before the quorum switched to
// atomic (plain mode, or ModeAuto before every server_id was pinned): the
// value MAC proves this client wrote it and there is no transaction to prove
// committed, so it stays readable, under the plain-mode read rules (see
// plainOnly): existing data does not become unreadable when the mode changes.
func (c *Client) readable(replies []reply) ([]reply, []PendingEntry) {
	if !c.useAtomic() {
		return replies, nil
	}
	replies, pending := splitCertified(replies, readableInAtomic, func(e provider.Entry) []byte { return e.TxID })
	if len(pending) > 0 {
		c.log.Info("quorum read: values without a commit proof are pending, not returned", "keys", len(pending))
	}
	return replies, pending
}

// readableInAtomic is the atomic-mode rule for one verified entry: a valid
// commit proof, or no transaction at all (a plain put's value).
func readableInAtomic(e provider.Entry) bool { return e.Certified || len(e.TxID) == 0 }

// plainOnly says which merged entries the plain-mode read rules (write-back to
// W, else *UnconfirmedError) apply to: all of them in plain mode; in atomic
// mode only the values of plain puts. A certified value is never written
// back on its own (that would split its transaction across keys): one that
// fewer than W hold has its whole transaction settled instead (landingTxs,
// settleLanding).
func (c *Client) plainOnly() func(provider.Entry) bool {
	if !c.useAtomic() {
		return func(provider.Entry) bool { return true }
	}
	return func(e provider.Entry) bool { return len(e.TxID) == 0 }
}

// maxPendingSettle bounds how many transactions one read hands to the settler:
// a provider serving many made-up pending values must not make a read start an
// unbounded amount of recovery.
const maxPendingSettle = 16

// settlePending hands the transactions of pending values to the background
// settler, which recovers them (fence, decide, settle; a committed one then
// reads certified, an aborted one is left to be overwritten): a pending value
// is settled, never returned.
func (c *Client) settlePending(pending []PendingEntry) {
	txids := make([][]byte, 0, len(pending))
	for _, p := range pending {
		txids = append(txids, p.TxID)
	}
	c.recoverLater(txids, "a value is held without a commit proof")
}

// recoverLater hands transactions to the background settler to recover, at
// most maxPendingSettle per call. A transaction this process still settles is
// left to it; one that may still be in its coordinator's hands (young, see
// youngTx) is recovered once it no longer is; one handed over recently is not
// again before Config.SettleDeadline has passed, so a provider that keeps
// serving an aborted value costs one recovery, not one per read.
func (c *Client) recoverLater(txids [][]byte, why string) {
	now := time.Now()
	s := &c.settler
	var adopt [][]byte
	s.mu.Lock()
	for id, at := range s.pendingSeen {
		if now.Sub(at) > c.settleDeadline {
			delete(s.pendingSeen, id)
		}
	}
	for _, txid := range txids {
		id := string(txid)
		if len(txid) == 0 || len(adopt) == maxPendingSettle || len(s.pendingSeen) >= maxPendingSeen {
			continue
		}
		if _, seen := s.pendingSeen[id]; seen {
			continue
		}
		if _, known := s.jobs[id]; known {
			continue // the settler is on it (a Get wakes it with wakeFor)
		}
		s.pendingSeen[id] = now
		adopt = append(adopt, txid)
	}
	s.mu.Unlock()
	for _, txid := range adopt {
		c.log.Info("quorum: recovering a transaction: "+why, "txid", fmt.Sprintf("%x", txid))
		at := txBorn(txid).Add(c.youngWindow())
		if at.Before(now) {
			at = now
		}
		c.adopt(txid, nil, at)
	}
}

// maxPendingSeen bounds the memory of transactions recovered because of a
// pending value.
const maxPendingSeen = 4096

// markUnproven records, per valid reply, the withheld entries (no commit
// proof) newer than what the merge holds for their key, as Unproven, and takes
// those keys out of the reply's Missing and Behind: the provider holds a newer
// version, just not a readable one, and copying the older one to it cannot
// change that.
func markUnproven(states []ProviderState, replies []reply, res mergeResult) {
	for i, r := range replies {
		if r.err != nil || len(r.withheld) == 0 {
			continue
		}
		for _, e := range r.withheld {
			top := mergedVersion(res.merged, e.Key)
			if j := slices.IndexFunc(res.ties, func(t Tie) bool { return t.Key == e.Key }); j >= 0 {
				top = res.ties[j].Version
			}
			if e.Version <= top {
				continue
			}
			st := &states[i]
			st.Unproven = append(st.Unproven, KeyComparison{Key: e.Key, Version: e.Version, Others: top})
			other := func(kv KeyComparison) bool { return kv.Key == e.Key }
			st.Missing = slices.DeleteFunc(st.Missing, other)
			st.Behind = slices.DeleteFunc(st.Behind, other)
		}
	}
}
