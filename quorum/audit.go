package quorum

import (
	"context"
	"errors"

	"github.com/lssquorum/lss/provider"
)

// Audit asks every provider for prefix (waiting for all of them, each bounded by
// Config.Timeout) and reports, provider by provider, whether it was reachable,
// presents the pinned server_id, gave a verified reply, and which keys it holds
// behind, misses, holds ahead, holds diverged or holds tampered, with versions;
// plus whether the merged state is below the watermark, and the overall verdict.
// With opts.Repair it then repairs the behind providers and audits again.
//
// Audit reports problems in the report, not as errors; the error is only for a
// closed client or a cancelled context.
func (c *Client) Audit(ctx context.Context, prefix string, opts AuditOptions) (*AuditReport, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	prog := newProgress(opts.Progress)
	mark, confirmed := c.mark.snapshot(), c.confirmedMarks()
	prog.report("reading providers", 0, c.n)
	replies := c.gather(ctx, prefix, c.n, 0)
	prog.report("reading providers", c.n, c.n)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	replies, pending := c.readable(replies)
	m := merge(replies, mark, c.w)
	c.checkProviders(prefix, replies, m, confirmed, mark)
	report := assess(prefix, c.addrs(), c.serverIDs(ctx, m.states), m.merged, m.states,
		rolledBackKeys(prefix, m, mark), c.n, c.w, c.r)
	report.addTies(m.ties)
	report.addPending(pending)
	prog.report("reading transaction records", 0, c.n)
	report.addTransactions(c.txAudit(ctx))
	prog.report("reading transaction records", c.n, c.n)
	// An audit raises nothing but what the providers confirmed; that is saved
	// so a later run can tell a rollback from a lag.
	_ = c.saveWatermarks(ctx)
	if !opts.Repair {
		return report, nil
	}
	report.Repair = c.repair(ctx, prefix, m.merged, m.states, prog)
	report.Repair.Pending = pending
	c.settlePending(pending)
	after, err := c.Audit(ctx, prefix, AuditOptions{Progress: opts.Progress.prefixed("after repair: ")})
	if err != nil {
		return report, err
	}
	report.After = after
	return report, nil
}

func (c *Client) addrs() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.opts.Addr
	}
	return out
}

// serverIDs finds the server_id each provider presents: the verified one of the
// established connection, or, for a provider refused for presenting another
// server_id, the one it presents now (asked without pinning, only to report it).
func (c *Client) serverIDs(ctx context.Context, states []ProviderState) []idCheck {
	ids := make([]idCheck, len(c.members))
	for i, m := range c.members {
		ids[i].pinned = m.opts.ServerID
		if cl := m.current(ctx); cl != nil {
			ids[i].presented = cl.ServerID()
		}
		if ids[i].presented == nil && errors.Is(states[i].Err, provider.ErrServerIDMismatch) {
			ids[i].presented = c.presentedID(ctx, m)
		}
	}
	return ids
}

// presentedID dials m without a pinned server_id to learn which one it presents.
func (c *Client) presentedID(ctx context.Context, m *member) []byte {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	opts := m.opts
	opts.ServerID = nil
	cl, err := provider.Dial(ctx, opts)
	if err != nil {
		return nil
	}
	defer cl.Close()
	return cl.ServerID()
}
