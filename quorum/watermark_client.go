package quorum

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lssquorum/lss/provider"
)

// clientMarks is the client's watermark with the store it is saved to.
type clientMarks struct {
	markSet
	// aborts are the transactions this client decided aborted (aborted.go).
	aborts abortLog
	store  WatermarkStore
	// saveMu makes one save at a time: a Put whose dirty keys were taken by a
	// concurrent save waits for that save to be durable before it returns.
	saveMu sync.Mutex
}

// BelowWatermarkError refuses a Put that would write a key at or below the
// version this client already saw acknowledged. Nothing was sent: writing an
// older (or another) value at a version the client relied on is how a rolled
// back quorum would be made to look current.
type BelowWatermarkError struct {
	Keys []KeyRollback
}

// Error names each key with the version asked and the acknowledged one.
func (e *BelowWatermarkError) Error() string {
	parts := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		if k.OtherValue {
			parts[i] = fmt.Sprintf("%q v%d is the acknowledged version, with another value", k.Key, k.Merged)
		} else {
			parts[i] = fmt.Sprintf("%q v%d is below the acknowledged v%d", k.Key, k.Merged, k.Watermark)
		}
	}
	return fmt.Sprintf("%v: put refused, nothing was sent: %s (write the next version above the watermark; "+
		"re-putting the acknowledged value at its version is allowed)", ErrRollback, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrRollback) hold.
func (e *BelowWatermarkError) Is(target error) bool { return target == ErrRollback }

// WatermarkSaveError is returned by Put and Get when the operation succeeded but
// the raised watermark could not be saved to Config.Watermarks. The result is
// returned with it: a put was acknowledged. Until a later save succeeds, a
// restart would lose the protection for those keys.
type WatermarkSaveError struct {
	Err error
}

// Error says what succeeded and what did not.
func (e *WatermarkSaveError) Error() string {
	return fmt.Sprintf("the operation succeeded but its watermark was not saved: %v", e.Err)
}

// Unwrap returns the store's error.
func (e *WatermarkSaveError) Unwrap() error { return e.Err }

// checkPut returns the keys of kvs at or below their mark. A put at exactly the
// marked version with the marked value is allowed: it re-writes the
// acknowledged value, which is how a rolled-back quorum is put right by a
// signer that still knows it.
func checkPut(kvs []provider.KV, mark func(string) (Mark, bool)) []KeyRollback {
	var out []KeyRollback
	for _, kv := range kvs {
		m, ok := mark(kv.Key)
		switch {
		case !ok, kv.Version > m.Version:
		case kv.Version == m.Version && m.Digest != nil && bytes.Equal(m.Digest, ValueDigest(kv.Value)):
		default:
			out = append(out, KeyRollback{Key: kv.Key, Watermark: m.Version, Merged: kv.Version,
				OtherValue: kv.Version == m.Version && m.Digest != nil})
		}
	}
	slices.SortFunc(out, func(a, b KeyRollback) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// checkPutWatermark refuses kvs if any key is at or below the watermark. Put
// calls it before sending anything.
func (c *Client) checkPutWatermark(kvs []provider.KV) error {
	if keys := checkPut(kvs, c.mark.get); len(keys) > 0 {
		return &BelowWatermarkError{Keys: keys}
	}
	return nil
}

// acknowledged raises the watermark to kvs, which a put just got acknowledged,
// and saves it before the put returns.
func (c *Client) acknowledged(ctx context.Context, kvs []provider.KV) error {
	c.mark.raiseKVs(kvs)
	return c.saveWatermarks(ctx)
}

// raiseConfirmed raises the watermark to the merged entries that at least W
// valid replies hold (same version, same value): those are as good as
// acknowledged. A version fewer providers hold (a failed put's leftover, or a
// write still in flight) does not raise it, so that losing that provider is
// not mistaken for a rollback.
func (c *Client) raiseConfirmed(merged []provider.Entry, holders []int) {
	for i, e := range merged {
		if holders[i] >= c.w {
			c.mark.raise(e.Key, Mark{Version: e.Version, Digest: ValueDigest(e.Value)})
		}
	}
}

// loadWatermarks loads Config.Watermarks into the client.
func (c *Client) loadWatermarks(ctx context.Context) error {
	c.mark.store = c.cfg.Watermarks
	if c.mark.store == nil {
		return nil
	}
	w, err := c.mark.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading the watermark: %w", err)
	}
	c.SetWatermark(w)
	// What was just loaded is saved already.
	c.mark.takeDirty()
	c.mark.aborts.takeDirty()
	for _, m := range c.members {
		m.confirmed.takeDirty()
	}
	return nil
}

// saveWatermarks saves what rose since the last save; without a store it only
// forgets that it rose.
func (c *Client) saveWatermarks(ctx context.Context) error {
	c.mark.saveMu.Lock()
	defer c.mark.saveMu.Unlock()
	w := Watermarks{Keys: c.mark.takeDirty(), Aborted: c.mark.aborts.takeDirty()}
	confirmed := make([]map[string]int64, len(c.members))
	for i, m := range c.members {
		confirmed[i] = m.confirmed.takeDirty()
		if len(confirmed[i]) > 0 {
			if w.Confirmed == nil {
				w.Confirmed = make(map[string]map[string]int64)
			}
			w.Confirmed[m.name] = confirmed[i]
		}
	}
	if c.mark.store == nil || len(w.Keys) == 0 && len(w.Confirmed) == 0 && len(w.Aborted) == 0 {
		return nil
	}
	// A save is not cancelled with the caller: the operation it records
	// already happened. It is still bounded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	if err := c.mark.store.Save(ctx, w); err != nil {
		c.mark.putBack(w.Keys)
		c.mark.aborts.putBack(w.Aborted)
		for i, m := range c.members {
			m.confirmed.putBack(confirmed[i])
		}
		c.log.Error("quorum watermark not saved", "err", err)
		return &WatermarkSaveError{Err: err}
	}
	return nil
}

// Watermark returns a copy of what the client remembers to detect rollbacks:
// the watermark of every key and what each provider confirmed. With
// Config.Watermarks set it is saved already; otherwise persist it and hand it
// back with SetWatermark after a restart.
func (c *Client) Watermark() Watermarks {
	w := Watermarks{Keys: c.mark.snapshot(), Aborted: c.mark.aborts.snapshot()}
	if w.Keys == nil {
		w.Keys = make(map[string]Mark)
	}
	for _, m := range c.members {
		if vs := m.confirmed.snapshot(); len(vs) > 0 {
			if w.Confirmed == nil {
				w.Confirmed = make(map[string]map[string]int64)
			}
			w.Confirmed[m.name] = vs
		}
	}
	return w
}

// SetWatermark raises the client's watermark to at least w (it never lowers
// anything), typically to restore a persisted one. Confirmed versions of
// providers not in the configuration are ignored.
func (c *Client) SetWatermark(w Watermarks) {
	for k, m := range w.Keys {
		c.mark.raise(k, m)
	}
	c.mark.aborts.add(w.Aborted, time.Now())
	for _, m := range c.members {
		if vs, ok := w.Confirmed[m.name]; ok {
			m.confirmed.raise(func(yield func(string, int64) bool) {
				for k, v := range vs {
					if !yield(k, v) {
						return
					}
				}
			})
		}
	}
}
