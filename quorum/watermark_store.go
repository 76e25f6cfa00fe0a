package quorum

import (
	"context"
	"maps"
	"slices"
)

// Watermarks is what a client remembers between runs to detect rollbacks: the
// watermark of every key, and what each provider confirmed holding.
type Watermarks struct {
	// Keys is, per key, the highest version acknowledged to the client (by a
	// put, or by W providers in a read) and the digest of its value.
	Keys map[string]Mark `json:"keys"`
	// Confirmed is, per provider name, the highest version of each key that the
	// provider confirmed holding (acknowledged, restored, or returned). A later
	// reply below it means that provider rolled back, not that it lags.
	Confirmed map[string]map[string]int64 `json:"providers,omitempty"`
	// Aborted is, per txid (hex), when (Unix seconds) this client decided
	// the transaction aborted: a later recovery aborts it whatever prepared
	// views the providers show, so that a provider that answered the
	// coordinator "aborted" and shows a recovery the prepare cannot get an
	// aborted put committed (aborted.go). Kept for abortMemory, at most
	// maxAbortMemory of them.
	Aborted map[string]int64 `json:"aborted,omitempty"`
}

// WatermarkStore keeps a client's Watermarks across restarts. Set one in
// Config.Watermarks: New loads it, and Put and Get save what they raised before
// they return, so a signer that crashes right after a Put still refuses, on
// restart, the rolled-back state the Put superseded.
//
// The protection across restarts is only as good as where the watermark is
// kept: a store on the same disk as a provider that gets restored from a
// backup is rolled back with it. Keep it where the signer's own state lives.
type WatermarkStore interface {
	// Load returns what was saved; empty Watermarks when nothing was.
	Load(ctx context.Context) (Watermarks, error)
	// Save raises the saved state to at least w, key by key (a lower version
	// never replaces a higher one), and returns only once that survives a
	// crash of the process or the machine.
	Save(ctx context.Context, w Watermarks) error
}

// raiseWatermarks merges src into dst the way a store saves: per key the higher
// version wins; at the same version a digest fills in a missing one.
func raiseWatermarks(dst *Watermarks, src Watermarks) {
	if dst.Keys == nil {
		dst.Keys = make(map[string]Mark, len(src.Keys))
	}
	for k, m := range src.Keys {
		cur, ok := dst.Keys[k]
		if !ok || m.Version > cur.Version || m.Version == cur.Version && cur.Digest == nil {
			dst.Keys[k] = Mark{Version: m.Version, Digest: slices.Clone(m.Digest)}
		}
	}
	for name, vs := range src.Confirmed {
		if dst.Confirmed == nil {
			dst.Confirmed = make(map[string]map[string]int64)
		}
		cur := dst.Confirmed[name]
		if cur == nil {
			cur = make(map[string]int64, len(vs))
			dst.Confirmed[name] = cur
		}
		for k, v := range vs {
			if old, ok := cur[k]; !ok || v > old {
				cur[k] = v
			}
		}
	}
	for txid, at := range src.Aborted {
		if dst.Aborted == nil {
			dst.Aborted = make(map[string]int64, len(src.Aborted))
		}
		if old, ok := dst.Aborted[txid]; !ok || at < old {
			dst.Aborted[txid] = at
		}
	}
}

// Clone returns a deep copy of w.
func (w Watermarks) Clone() Watermarks {
	var out Watermarks
	raiseWatermarks(&out, w)
	return out
}

// resetWatermarks removes keys (every key when keys is empty) from w, from the
// client's marks and every provider's confirmed versions.
func resetWatermarks(w *Watermarks, keys []string) {
	if len(keys) == 0 {
		// The aborts decided stay: they are not a version of any key.
		*w = Watermarks{Keys: map[string]Mark{}, Aborted: w.Aborted}
		return
	}
	for _, k := range keys {
		delete(w.Keys, k)
		for _, vs := range w.Confirmed {
			delete(vs, k)
		}
	}
	maps.DeleteFunc(w.Confirmed, func(_ string, vs map[string]int64) bool { return len(vs) == 0 })
}
