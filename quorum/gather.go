package quorum

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/errgroup"
)

// errNotAwaited is the reason given for a provider whose Get was cancelled
// because the read quorum and its grace period were already complete.
var errNotAwaited = errors.New("no reply before the read quorum and its grace period were complete")

// errQuorumLost is the reason given for a provider whose Get was cancelled
// because so many others had failed that no reply of its own could complete
// the read quorum.
var errQuorumLost = errors.New("not awaited: the read quorum could no longer be reached")

// gather asks every provider for prefix in parallel, each call bounded by
// Config.Timeout, and returns their replies in configuration order.
//
// It stops listening once the outcome is known and then either every provider
// answered or grace passed: the outcome is known once need valid replies are
// in or (with need below N) once so many failed that need can no longer be
// reached, like a put refused by more than N-W providers. The remaining calls
// are cancelled and reported as not awaited. With need equal to N it waits for
// every provider.
func (c *Client) gather(ctx context.Context, prefix string, need int, grace time.Duration) []reply {
	type answer struct {
		i int
		r reply
	}
	answers := make(chan answer, c.n)
	// Cancelled with the reason the remaining calls are no longer awaited.
	quorumCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	g, gctx := errgroup.WithContext(quorumCtx)
	for i, m := range c.members {
		g.Go(func() error {
			callCtx, cancel := context.WithTimeout(gctx, c.timeout)
			defer cancel()
			r := reply{name: m.name}
			cl, err := m.client(callCtx)
			if err == nil {
				r.entries, err = cl.Get(callCtx, prefix)
				m.noteErr(cl, err)
				if err == nil {
					r.unopened = c.openValues(r.entries)
				}
			}
			if err != nil && quorumCtx.Err() != nil && ctx.Err() == nil {
				// Cancelled by us, not a failure of the provider.
				err = context.Cause(quorumCtx)
			}
			r.err = named(m.name, "get", err)
			answers <- answer{i, r}
			return nil
		})
	}

	replies := make([]reply, c.n)
	got := 0
	valid := tally{n: c.n, need: need}
	var graceOver <-chan time.Time
	why := errNotAwaited
listen:
	for got < c.n {
		select {
		case a := <-answers:
			replies[a.i] = a.r
			got++
			if a.r.err == nil {
				valid.yes++
			} else {
				valid.no++
			}
			lost := need < c.n && valid.lost()
			if lost {
				why = errQuorumLost
			}
			if (valid.won() || lost) && graceOver == nil && got < c.n {
				if grace <= 0 {
					break listen
				}
				t := time.NewTimer(grace)
				defer t.Stop()
				graceOver = t.C
			}
		case <-graceOver:
			break listen
		}
	}
	stop(why)
	_ = g.Wait() // every call returns promptly once cancelled
	for ; got < c.n; got++ {
		a := <-answers
		replies[a.i] = a.r
	}
	return replies
}
