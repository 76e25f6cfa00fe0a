package quorum

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/lssquorum/lss/provider"
)

// ErrRollback is matched (errors.Is) by every *RollbackError.
var ErrRollback = errors.New("rollback detected")

// KeyRollback is one key whose merged version is below the watermark.
type KeyRollback struct {
	Key string `json:"key"`
	// Watermark is the highest version this client saw acknowledged or returned.
	Watermark int64 `json:"watermark"`
	// Merged is the highest version the answering providers hold; -1 if none
	// holds the key.
	Merged int64 `json:"merged"`
}

// KeyLoss is one key a provider holds below a version it confirmed before.
type KeyLoss struct {
	Key string `json:"key"`
	// Confirmed is the highest version the provider confirmed holding before.
	Confirmed int64 `json:"confirmed"`
	// Held is the version it holds now; -1 if the key is gone.
	Held int64 `json:"held"`
}

// RollbackError is returned by Get instead of data when the merged result is
// older than what this client already saw acknowledged: every provider that
// answered has lost or rolled back those writes. The stale data is not returned.
type RollbackError struct {
	Prefix string
	Keys   []KeyRollback
	// Answered are the providers whose valid replies were merged: all of them are
	// behind the watermark for Keys.
	Answered []string
	// Unheard are the providers that gave no valid reply; one of them may still
	// hold the data.
	Unheard []string
}

// Error names the rolled-back keys with both versions, and the providers.
func (e *RollbackError) Error() string {
	parts := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		parts[i] = fmt.Sprintf("%q acknowledged at v%d, providers hold %s", k.Key, k.Watermark, versionWord(k.Merged))
	}
	msg := fmt.Sprintf("%v under prefix %q: %s; answering providers %s are all behind",
		ErrRollback, e.Prefix, strings.Join(parts, "; "), strings.Join(e.Answered, ", "))
	if len(e.Unheard) > 0 {
		msg += fmt.Sprintf(" (no valid reply from %s)", strings.Join(e.Unheard, ", "))
	}
	return msg
}

// Is makes errors.Is(err, ErrRollback) hold.
func (e *RollbackError) Is(target error) bool { return target == ErrRollback }

// checkWatermark returns the keys under prefix whose version in entries (sorted
// by key: a merge, or one provider's reply) is below the watermark mark, in key
// order. A key missing from entries counts as version -1: a provider cannot
// hide a key any more than it can lower its version.
func checkWatermark(prefix string, merged []provider.Entry, mark map[string]int64) []KeyRollback {
	var out []KeyRollback
	for key, want := range mark {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		if got := mergedVersion(merged, key); got < want {
			out = append(out, KeyRollback{Key: key, Watermark: want, Merged: got})
		}
	}
	slices.SortFunc(out, func(a, b KeyRollback) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// watermark is the client's memory of the highest version per key it has seen
// acknowledged by a put or returned by a get. It only rises.
type watermark struct {
	mu sync.Mutex
	v  map[string]int64
}

// snapshot copies the watermark. A Get checks against the copy taken when it
// starts, so a put acknowledged while the Get is in flight cannot make the Get
// look like a rollback.
func (w *watermark) snapshot() map[string]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.v)
}

// raise lifts the watermark of each key to at least version.
func (w *watermark) raise(kvs iter.Seq2[string, int64]) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.v == nil {
		w.v = make(map[string]int64)
	}
	for k, v := range kvs {
		if cur, ok := w.v[k]; !ok || v > cur {
			w.v[k] = v
		}
	}
}

// raiseEntries lifts the watermark to the versions of es.
func (w *watermark) raiseEntries(es []provider.Entry) {
	w.raise(func(yield func(string, int64) bool) {
		for _, e := range es {
			if !yield(e.Key, e.Version) {
				return
			}
		}
	})
}

// raiseKVs lifts the watermark to the versions of kvs.
func (w *watermark) raiseKVs(kvs []provider.KV) {
	w.raise(func(yield func(string, int64) bool) {
		for _, kv := range kvs {
			if !yield(kv.Key, kv.Version) {
				return
			}
		}
	})
}
