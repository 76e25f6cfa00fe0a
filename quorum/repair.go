package quorum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lssquorum/lss/provider"
)

// KeyUpdate is one key moved forward on a provider by repair.
type KeyUpdate struct {
	Key string `json:"key"`
	// From is the version the provider held; -1 if it lacked the key.
	From int64 `json:"from"`
	// To is the version written.
	To int64 `json:"to"`
}

// ProviderRepair is what repair did to one provider.
type ProviderRepair struct {
	Name string `json:"name"`
	// Before is the provider's status when the repair was planned.
	Before Status `json:"before"`
	// Restored are the keys brought forward.
	Restored []KeyUpdate `json:"restored,omitempty"`
	// Kept are keys the provider refused because it already holds the same or a
	// newer version (a write landed meanwhile): Version is what it keeps.
	Kept []KeyComparison `json:"kept,omitempty"`
	// Unrepairable are keys a provider without the Restore extension cannot be
	// brought to: the base protocol's Put only accepts the next version.
	Unrepairable []KeyUpdate `json:"unrepairable,omitempty"`
	// Error says why the repair failed or was not attempted (faulty or
	// unreachable provider); empty when it succeeded or was not needed.
	Error string `json:"error,omitempty"`
	// Err is Error as an error value.
	Err error `json:"-"`
}

// RepairReport is the outcome of Repair.
type RepairReport struct {
	Prefix string `json:"prefix"`
	// Providers are every provider in configuration order.
	Providers []ProviderRepair `json:"providers"`
	// Pending are values held without a commit proof (atomic mode), newer
	// than every certified one of their key: never copied; their transactions
	// are handed to recovery.
	Pending []PendingEntry `json:"pending,omitempty"`
}

// Complete reports whether every provider was reached and now holds the merged
// state: nothing failed, nothing was left unrepairable.
func (r *RepairReport) Complete() bool {
	for _, p := range r.Providers {
		if p.Err != nil || len(p.Unrepairable) > 0 {
			return false
		}
	}
	return true
}

// Repair reads prefix from every provider (waiting for all of them, each bounded
// by Config.Timeout), merges the valid replies and copies the merged entries to
// every provider that is behind, with the forward-only Restore: a provider never
// loses a version it holds, so repairing is safe even from a partial view.
// Faulty and unreachable providers are skipped and reported.
//
// A provider without the Restore extension is repaired with a plain Put where
// that is possible (the merged version is exactly the next one for the key); the
// other keys are reported as unrepairable.
//
// In atomic mode only certified values and plain puts' values are copied
// (see Get): a value held without a commit proof is reported in
// RepairReport.Pending and its transaction recovered, never copied, so a
// provider serving an aborted put's prepared value cannot spread it. Copies
// keep their txid and commit proof (Restore; a carrier for a stock provider),
// so what a repaired provider holds is as certified as the original.
//
// If the merge is below the watermark (every answering provider rolled back) the
// repair still runs, since it cannot lower anything, and the report comes with a
// *RollbackError. With no valid reply at all the error is a *QuorumError.
func (c *Client) Repair(ctx context.Context, prefix string) (*RepairReport, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	mark, confirmed := c.mark.snapshot(), c.confirmedMarks()
	replies, pending := c.readable(c.gather(ctx, prefix, c.n, 0))
	m := merge(replies, mark, c.w)
	c.checkProviders(prefix, replies, m, confirmed, mark)
	report := c.repair(ctx, prefix, m.merged, m.states, nil)
	report.Pending = pending
	c.settlePending(pending)
	err := c.readOutcome(prefix, m, replies, mark)
	var qe *QuorumError
	if errors.As(err, &qe) && qe.Got > 0 {
		// Below R valid replies the merge may miss acknowledged writes, but a
		// forward-only copy of what was seen is still safe, so it is not an
		// error for repair.
		err = nil
	}
	if serr := c.saveWatermarks(ctx); err == nil {
		err = serr
	}
	return report, err
}

// repair applies planRepair to every provider in parallel and reports on all,
// and to prog (nil: nobody) as each provider is done.
func (c *Client) repair(ctx context.Context, prefix string, merged []provider.Entry, states []ProviderState, prog *progress) *RepairReport {
	plan := planRepair(merged, states)
	tick := prog.counter("repairing providers", len(states))
	report := &RepairReport{Prefix: prefix, Providers: make([]ProviderRepair, len(states))}
	var g errgroup.Group
	for i, s := range states {
		report.Providers[i] = ProviderRepair{Name: s.Name, Before: s.Status}
		switch {
		case s.Status == Faulty || s.Status == Unreachable:
			report.Providers[i].Err = fmt.Errorf("not repaired: %w", s.Err)
			report.Providers[i].Error = report.Providers[i].Err.Error()
			tick()
			continue
		case len(plan[s.Name]) == 0:
			tick()
			continue
		}
		m := c.members[i]
		g.Go(func() error {
			callCtx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			report.Providers[i] = c.repairOne(callCtx, m, plan[s.Name], s)
			tick()
			return nil
		})
	}
	_ = g.Wait()
	return report
}

// repairOne brings one provider forward to entries (its share of the plan).
func (c *Client) repairOne(ctx context.Context, m *member, entries []provider.Entry, s ProviderState) ProviderRepair {
	out := ProviderRepair{Name: m.name, Before: s.Status}
	fail := func(err error) ProviderRepair {
		out.Err = named(m.name, "repair", err)
		out.Error = out.Err.Error()
		c.log.Warn("quorum repair failed", "provider", m.name, "err", out.Err)
		return out
	}
	held := heldVersions(s)
	update := func(e provider.Entry) KeyUpdate {
		return KeyUpdate{Key: e.Key, From: held[e.Key], To: e.Version}
	}
	cl, err := m.client(ctx)
	if err != nil {
		return fail(err)
	}
	// A stock provider (pinned so) gets plain puts; a provider pinned as
	// speaking the extension that answers Restore with UNIMPLEMENTED is faulty,
	// and the failure is reported, never worked around.
	var applied []string
	var kept []provider.Conflict
	if !m.stock {
		applied, kept, err = cl.Restore(ctx, entries)
		m.noteErr(cl, err)
	}
	switch {
	case m.stock:
		putable, unrepairable := splitForPut(entries, s)
		for _, e := range unrepairable {
			out.Unrepairable = append(out.Unrepairable, update(e))
		}
		if len(putable) > 0 {
			if err := cl.PutEntries(ctx, putable); err != nil {
				m.noteErr(cl, err)
				return fail(err)
			}
			for _, e := range putable {
				out.Restored = append(out.Restored, update(e))
			}
		}
	case err != nil:
		if status.Code(err) == codes.InvalidArgument {
			// The provider holds one of these transactions prepared, and
			// the plan carries only part of its writes (a later put
			// overwrote the others): a settling Restore must be exactly the
			// prepared writes, so it refuses the whole request. Recovery
			// settles that transaction there (Commit with its proofs, made
			// from the provider's own verified record); the next repair
			// then goes through.
			c.recoverLater(txidsOf(entries), "a provider refused it as a partial settlement in a repair")
		}
		return fail(err)
	default:
		byKey := make(map[string]provider.Entry, len(entries))
		for _, e := range entries {
			byKey[e.Key] = e
		}
		for _, k := range applied {
			if e, ok := byKey[k]; ok {
				out.Restored = append(out.Restored, update(e))
			}
		}
		for _, k := range kept {
			out.Kept = append(out.Kept, KeyComparison{Key: k.Key, Version: k.Version, Others: byKey[k.Key].Version})
		}
	}
	slices.SortFunc(out.Restored, func(a, b KeyUpdate) int { return strings.Compare(a.Key, b.Key) })
	m.confirmed.raise(func(yield func(string, int64) bool) {
		for _, u := range out.Restored {
			if !yield(u.Key, u.To) {
				return
			}
		}
	})
	c.log.Debug("quorum repaired provider", "provider", m.name, "restored", len(out.Restored),
		"kept", len(out.Kept), "unrepairable", len(out.Unrepairable))
	return out
}

// txidsOf lists the distinct txids of es (plain puts' entries have none).
func txidsOf(es []provider.Entry) [][]byte {
	var out [][]byte
	for _, e := range es {
		if len(e.TxID) > 0 && !slices.ContainsFunc(out, func(id []byte) bool { return bytes.Equal(id, e.TxID) }) {
			out = append(out, e.TxID)
		}
	}
	return out
}

// heldVersions maps each key a provider is behind on (or missing) to the version
// it holds, -1 for missing.
func heldVersions(s ProviderState) map[string]int64 {
	held := make(map[string]int64, len(s.Behind)+len(s.Missing))
	for _, kv := range slices.Concat(s.Behind, s.Missing) {
		held[kv.Key] = kv.Version
	}
	return held
}

// repairInBackground starts a bounded repair of each provider in plan, at most
// one per provider at a time; Close waits for them.
func (c *Client) repairInBackground(prefix string, plan map[string][]provider.Entry, states []ProviderState) {
	for i, s := range states {
		entries := plan[s.Name]
		if len(entries) == 0 {
			continue
		}
		c.mu.Lock()
		busy := c.repairing[s.Name]
		if !busy && !c.closed {
			c.repairing[s.Name] = true
			m := c.members[i]
			c.startLocked(func() {
				defer func() {
					c.mu.Lock()
					delete(c.repairing, s.Name)
					c.mu.Unlock()
				}()
				ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
				defer cancel()
				r := c.repairOne(ctx, m, entries, s)
				if r.Err == nil {
					c.log.Info("quorum auto-repair", "prefix", prefix, "provider", s.Name,
						"restored", len(r.Restored), "unrepairable", len(r.Unrepairable))
				}
			})
		}
		c.mu.Unlock()
	}
}
