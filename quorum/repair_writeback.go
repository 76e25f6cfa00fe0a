package quorum

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/lssquorum/lss/provider"
)

// writeBack is the second phase of a plain-mode read: it copies each merged
// entry that fewer than W valid replies hold onto the answering providers that
// lack it (forward-only Restore, or the base Put where that is the next
// version), and counts in m.holders the copies that landed.
//
// Without it a read could return a version only one provider holds (a put
// still in flight, or a failed put's leftover) and a later read, from a read
// quorum without that provider, return the older one: two reads in a row going
// back in time, which no order of the operations explains. Once W providers
// hold what a read returned, every later read quorum overlaps them. When fewer
// than W hold it even so, Get returns an *UnconfirmedError instead (unless it
// is the version and value this client saw acknowledged).
//
// Atomic mode does not need it for certified values (only plain puts'
// values, selected by only, get it): a value is readable there only with a
// commit proof, issued once the commit is decided, and Put returns only once W
// providers hold it.
func (c *Client) writeBack(ctx context.Context, m *mergeResult, only func(provider.Entry) bool) {
	short := make(map[string]int) // key -> index in m.merged
	for i, e := range m.merged {
		if m.holders[i] < c.w && only(e) {
			short[e.Key] = i
		}
	}
	if len(short) == 0 {
		return
	}
	plan := planRepair(m.merged, m.states)
	var g errgroup.Group
	landed := make([][]string, len(m.states))
	for i, s := range m.states {
		var es []provider.Entry
		for _, e := range plan[s.Name] {
			if _, ok := short[e.Key]; ok {
				es = append(es, e)
			}
		}
		if len(es) == 0 {
			continue
		}
		mem := c.members[i]
		g.Go(func() error {
			callCtx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			r := c.repairOne(callCtx, mem, es, s)
			for _, u := range r.Restored {
				landed[i] = append(landed[i], u.Key)
			}
			return nil
		})
	}
	_ = g.Wait()
	for _, keys := range landed {
		for _, k := range keys {
			m.holders[short[k]]++
		}
	}
}
