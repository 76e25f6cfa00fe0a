package quorum

import (
	"context"
	"sync"
)

// keyOrder keeps the writes sent to one provider in the order the client issued
// them, per key. Put returns once W providers acknowledged, so the next put of
// the same key is often issued while a slower provider is still applying the
// previous one; sent at once, it would reach that provider first (or while the
// previous write is being made durable) and be refused as a conflict, leaving
// that provider behind after every put of a busy signer. Writes of unrelated
// keys are not ordered, so concurrent writers still share the provider's group
// commit.
type keyOrder struct {
	mu sync.Mutex
	// tails maps a key to a channel closed when the last write issued for it
	// finished.
	tails map[string]chan struct{}
}

// enqueue records a write of keys, in issue order, and returns wait, which
// blocks until every earlier write of those keys finished (or ctx ends), and
// done, which must be called once the write finished.
func (o *keyOrder) enqueue(keys []string) (wait func(context.Context) error, done func()) {
	mine := make(chan struct{})
	var before []chan struct{}
	o.mu.Lock()
	if o.tails == nil {
		o.tails = make(map[string]chan struct{})
	}
	for _, k := range keys {
		if prev, ok := o.tails[k]; ok {
			before = append(before, prev)
		}
		o.tails[k] = mine
	}
	o.mu.Unlock()

	wait = func(ctx context.Context) error {
		for _, prev := range before {
			select {
			case <-prev:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	done = func() {
		close(mine)
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, k := range keys {
			if o.tails[k] == mine {
				delete(o.tails, k)
			}
		}
	}
	return wait, done
}
