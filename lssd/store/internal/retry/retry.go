// Package retry holds the pieces the database backends share to retry a
// transaction that lost a race with another lssd front-end: a randomized,
// bounded backoff, a sleep that ends with its context, and a default deadline
// for calls that came without one. Every retry loop stays bounded in count and
// time.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// MaxBackoff caps the pause between two attempts.
const MaxBackoff = 50 * time.Millisecond

// Backoff is the pause before attempt+1: growing from about 1 ms to at most
// MaxBackoff, randomized so racing front-ends do not collide again in lockstep.
func Backoff(attempt int) time.Duration {
	d := min(time.Millisecond<<min(max(attempt-1, 0), 6), MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for d, or until ctx ends (returning its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Bounded returns ctx with timeout applied if it has no deadline yet, so that no
// database call waits forever.
func Bounded(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout)
}
