package quorum

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/lssquorum/lss/provider"
)

// Put writes kvs (each at its next version: stored + 1, or 0 for a new key) to
// the providers and succeeds once W of them acknowledged. On success the
// watermark rises to the written versions.
//
// Every value is encrypted as it is sealed (encrypt.go), unless
// Config.DisableEncryption: the providers get only ciphertext, and a retried put
// sends a new ciphertext of the same value. The stored values a conflict
// reports are decrypted for the caller.
//
// In plain mode every provider gets the base protocol's Put in parallel. Once W
// acknowledged, Put returns; the other writes are left running (bounded by
// Config.Timeout, awaited by Close) because a write that lands still helps the
// providers converge. A failed plain put is a *QuorumError that names every
// failed provider and the providers the write may have reached anyway; a later
// Get returns the highest version and repairs the others towards it.
func (c *Client) Put(ctx context.Context, kvs []provider.KV) (_ *PutResult, err error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkKVs(kvs); err != nil {
		return nil, err
	}
	defer func() { c.openConflicts(err) }()
	if err := c.checkPutWatermark(kvs); err != nil {
		return nil, err
	}
	if c.useAtomic() {
		return c.putAtomic(ctx, kvs)
	}
	return c.putPlain(ctx, kvs)
}

// checkKVs refuses input every provider would refuse, without a round trip.
func checkKVs(kvs []provider.KV) error {
	if len(kvs) == 0 {
		return errors.New("quorum put: no key-values")
	}
	seen := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		if seen[kv.Key] {
			return fmt.Errorf("quorum put: key %q appears twice", kv.Key)
		}
		seen[kv.Key] = true
		if kv.Version < 0 {
			return fmt.Errorf("quorum put: key %q has negative version %d", kv.Key, kv.Version)
		}
	}
	return nil
}

// putPlain fans the put out and gathers answers until W acknowledged, W became
// unreachable, or ctx ends.
func (c *Client) putPlain(ctx context.Context, kvs []provider.KV) (*PutResult, error) {
	type answer struct {
		i int
		r putReply
	}
	answers := make(chan answer, c.n)
	// The writes must not be cancelled when Put returns (or when the caller's
	// context ends right after), so they run under their own deadline.
	base := context.WithoutCancel(ctx)
	// Sealed once: every provider gets the same stored bytes.
	entries := c.seal(kvs)
	keys := make([]string, len(kvs))
	for i, kv := range kvs {
		keys[i] = kv.Key
	}
	var g errgroup.Group
	// Enqueued here, in the caller's goroutine, so that the order is the order in
	// which Put was called, and on every provider at once, so that all agree.
	c.order.Lock()
	for i, m := range c.members {
		wait, done := m.writes.enqueue(keys)
		g.Go(func() error {
			defer done()
			callCtx, cancel := context.WithTimeout(base, c.timeout)
			defer cancel()
			r := putReply{name: m.name, done: true}
			err := wait(callCtx)
			if err == nil {
				c.flushMember(callCtx, m, keys)
			}
			var cl *provider.Client
			if err == nil {
				cl, err = m.client(callCtx)
			}
			if err == nil {
				r.sent = true
				err = cl.PutEntries(callCtx, entries)
				m.noteErr(cl, err)
				if err == nil {
					m.confirmed.raiseKVs(kvs)
				}
			}
			r.err = named(m.name, "put", err)
			answers <- answer{i, r}
			return nil
		})
	}
	c.order.Unlock()
	if !c.goBackground(func() { _ = g.Wait() }) {
		// Closed meanwhile: still wait here, so nothing is left running.
		_ = g.Wait()
	}

	replies := make([]putReply, c.n)
	for i, m := range c.members {
		replies[i] = putReply{name: m.name}
	}
	acks := tally{n: c.n, need: c.w}
gather:
	// Stop at W acknowledgements, or as soon as W can no longer be reached:
	// a put refused by more than N-W providers fails without waiting for the
	// slowest.
	for !acks.done() {
		select {
		case a := <-answers:
			replies[a.i] = a.r
			if a.r.err == nil {
				acks.yes++
			} else {
				acks.no++
			}
		case <-ctx.Done():
			break gather
		}
	}
	res, err := decidePut(c.w, replies)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		}
		c.log.Warn("quorum put failed", "keys", len(kvs), "err", err)
		return res, err
	}
	return res, c.acknowledged(ctx, kvs)
}
