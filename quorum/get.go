package quorum

import (
	"context"

	"github.com/hashicorp/go-multierror"

	"github.com/lssquorum/lss/provider"
)

// Get returns the client's entries under prefix, merged from a read quorum.
//
// Every provider is asked in parallel. Get returns once R valid replies are in,
// after waiting up to Config.Grace for the others so that a lagging minority is
// still compared; the calls still running are then cancelled. A reply counts only
// if it verifies completely; a provider whose reply does not is Faulty and all of
// its data is ignored. Per key the highest verified version wins.
//
// The result describes every provider (up to date, ahead, behind with which keys,
// diverged, faulty or unreachable with the reason). With fewer than R valid
// replies the error is a *QuorumError naming every provider that failed and why.
// If the merge is below the watermark for any key (every answering provider lost
// acknowledged writes), the error is a *RollbackError and no entries are
// returned. On error the result still describes the providers but holds no
// entries.
//
// With Config.AutoRepair the providers found behind are repaired in the
// background with Restore.
func (c *Client) Get(ctx context.Context, prefix string) (*GetResult, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	mark, confirmed := c.mark.snapshot(), c.confirmedMarks()
	replies := c.gather(ctx, prefix, c.r, c.grace)
	merged, states := merge(replies)
	c.checkProviders(prefix, replies, states, confirmed)
	res := &GetResult{Providers: states}
	if err := c.readOutcome(prefix, merged, replies, mark); err != nil {
		return res, err
	}
	c.logProblems("get", states)
	res.Entries = merged
	c.mark.raiseEntries(merged)
	if c.cfg.AutoRepair {
		c.repairInBackground(prefix, planRepair(merged, states), states)
	}
	return res, nil
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

// checkProviders records in states the keys each provider holds below what it
// confirmed before (marks, from confirmedMarks), and then raises each
// provider's confirmed versions to what it just returned.
func (c *Client) checkProviders(prefix string, replies []reply, states []ProviderState, marks []map[string]int64) {
	for i, r := range replies {
		if r.err != nil {
			continue
		}
		if lost := checkWatermark(prefix, r.entries, marks[i]); len(lost) > 0 {
			for _, k := range lost {
				states[i].RolledBack = append(states[i].RolledBack, KeyLoss{Key: k.Key, Confirmed: k.Watermark, Held: k.Merged})
			}
			states[i].Status = statusOf(states[i])
			c.log.Warn("quorum provider rolled back: it holds versions below what it confirmed before",
				"provider", r.name, "keys", len(lost))
		}
		c.members[i].confirmed.raiseEntries(r.entries)
	}
}

// readOutcome decides whether merged may be returned: R valid replies, and
// nothing below the watermark mark.
func (c *Client) readOutcome(prefix string, merged []provider.Entry, replies []reply, mark map[string]int64) error {
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
		return &QuorumError{Op: "get", Need: c.r, Got: len(answered), N: c.n, Errs: errs}
	}
	if keys := checkWatermark(prefix, merged, mark); len(keys) > 0 {
		return &RollbackError{Prefix: prefix, Keys: keys, Answered: answered, Unheard: unheard}
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
