package quorum

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lssquorum/lss/provider"
)

// ErrRollback is matched (errors.Is) by every *RollbackError and every
// *BelowWatermarkError.
var ErrRollback = errors.New("rollback detected")

// Mark is what the client remembers of one key: the highest version it saw
// acknowledged by a put or confirmed by W providers in a read, and the SHA-256
// of that version's value.
type Mark struct {
	Version int64 `json:"version"`
	// Digest is SHA-256 of the value at Version; nil when unknown (a watermark
	// saved before digests were kept, or restored from versions alone).
	Digest []byte `json:"sha256,omitempty"`
}

// ValueDigest is the digest a Mark keeps of a value: SHA-256 of the plain
// value, so the same value has the same digest whatever format or transaction
// it was stored with.
func ValueDigest(value []byte) []byte {
	d := sha256.Sum256(value)
	return d[:]
}

// matches reports whether an entry at the mark's version holds the marked
// value; without a digest any value matches.
func (m Mark) matches(value []byte) bool {
	return m.Digest == nil || bytes.Equal(m.Digest, ValueDigest(value))
}

// KeyRollback is one key whose merged version is below the watermark, or at it
// with another value.
type KeyRollback struct {
	Key string `json:"key"`
	// Watermark is the highest version this client saw acknowledged.
	Watermark int64 `json:"watermark"`
	// Merged is the highest version the answering providers hold; -1 if none
	// holds the key.
	Merged int64 `json:"merged"`
	// OtherValue: the providers hold the acknowledged version, but with a value
	// whose digest is not the acknowledged one (a provider replays another write
	// of that version).
	OtherValue bool `json:"other_value,omitempty"`
}

// String reads like `"k" acknowledged at v5, providers hold v3`.
func (k KeyRollback) String() string {
	if k.OtherValue {
		return fmt.Sprintf("%q acknowledged at v%d, providers hold v%d with another value", k.Key, k.Watermark, k.Merged)
	}
	return fmt.Sprintf("%q acknowledged at v%d, providers hold %s", k.Key, k.Watermark, versionWord(k.Merged))
}

// KeyLoss is one key a provider holds below a version it confirmed before (or
// below the version acknowledged to this client).
type KeyLoss struct {
	Key string `json:"key"`
	// Confirmed is the highest version the provider confirmed holding before
	// (for BelowWatermark: the version acknowledged to the client).
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
		parts[i] = k.String()
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

// checkWatermark returns the keys under prefix whose entry in merged (sorted by
// key: a merge, or one provider's reply) is below the watermark mark, or at the
// marked version with a value of another digest, in key order. A key missing
// from merged counts as version -1: a provider cannot hide a key any more than
// it can lower its version.
func checkWatermark(prefix string, merged []provider.Entry, mark map[string]Mark) []KeyRollback {
	var out []KeyRollback
	for key, want := range mark {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		i, found := findEntry(merged, key)
		switch {
		case !found:
			out = append(out, KeyRollback{Key: key, Watermark: want.Version, Merged: -1})
		case merged[i].Version < want.Version:
			out = append(out, KeyRollback{Key: key, Watermark: want.Version, Merged: merged[i].Version})
		case merged[i].Version == want.Version && !want.matches(merged[i].Value):
			out = append(out, KeyRollback{Key: key, Watermark: want.Version, Merged: merged[i].Version, OtherValue: true})
		}
	}
	slices.SortFunc(out, func(a, b KeyRollback) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// markSet is the client's watermark: per key the highest version acknowledged
// or W-confirmed, with its digest. It only rises. dirty are the keys changed
// since the last save.
type markSet struct {
	savedMap[Mark]
}

// get returns the mark of key, and whether there is one.
func (w *markSet) get(key string) (Mark, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m, ok := w.v[key]
	return m, ok
}

// raise lifts the mark of key to m if m is higher, or fills in a digest the
// mark at the same version lacked. It reports whether anything changed.
func (w *markSet) raise(key string, m Mark) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.v == nil {
		w.v = make(map[string]Mark)
		w.dirty = make(map[string]struct{})
	}
	cur, ok := w.v[key]
	switch {
	case !ok, m.Version > cur.Version:
	case m.Version == cur.Version && cur.Digest == nil && m.Digest != nil:
	default:
		return false
	}
	w.v[key] = Mark{Version: m.Version, Digest: slices.Clone(m.Digest)}
	w.dirty[key] = struct{}{}
	return true
}

// raiseKVs lifts the watermark to kvs, acknowledged by a put.
func (w *markSet) raiseKVs(kvs []provider.KV) {
	for _, kv := range kvs {
		w.raise(kv.Key, Mark{Version: kv.Version, Digest: ValueDigest(kv.Value)})
	}
}

// watermark is one provider's confirmed versions: the highest version per key
// it confirmed holding (acknowledged, restored, or returned). It only rises.
// dirty are the keys changed since the last save.
type watermark struct {
	savedMap[int64]
}

// raise lifts each key to at least version.
func (w *watermark) raise(kvs func(yield func(string, int64) bool)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.v == nil {
		w.v = make(map[string]int64)
		w.dirty = make(map[string]struct{})
	}
	for k, v := range kvs {
		if cur, ok := w.v[k]; !ok || v > cur {
			w.v[k] = v
			w.dirty[k] = struct{}{}
		}
	}
}

// raiseEntries lifts the versions to those of es.
func (w *watermark) raiseEntries(es []provider.Entry) {
	w.raise(func(yield func(string, int64) bool) {
		for _, e := range es {
			if !yield(e.Key, e.Version) {
				return
			}
		}
	})
}

// raiseKVs lifts the versions to those of kvs.
func (w *watermark) raiseKVs(kvs []provider.KV) {
	w.raise(func(yield func(string, int64) bool) {
		for _, kv := range kvs {
			if !yield(kv.Key, kv.Version) {
				return
			}
		}
	})
}
