package quorum

import (
	"fmt"

	"github.com/lssquorum/lss/provider"
)

// Status is how one provider compares with the merged result of a read.
type Status int

// The statuses, from best to worst. A provider with several problems gets the
// worst one that applies, and its ProviderState lists every key involved.
const (
	// UpToDate: the provider holds exactly the merged result.
	UpToDate Status = iota
	// Ahead: the provider alone holds a version higher than every other valid
	// reply for some key. That version wins the merge (its value HMAC verifies,
	// so the client wrote it) but is not yet confirmed by anyone else: typically
	// a plain put that failed after reaching this provider, or the others lost it.
	Ahead
	// Behind: the provider holds a lower version of some key than the merge, or
	// omits a key others hold (lagging, restarted from old data, or rolled back).
	// Repair brings it forward.
	Behind
	// Diverged: the provider holds the merged version of some key with a
	// different value (two writes of the same version, e.g. a retried plain put).
	// The acknowledged value (by the watermark, or held by W providers) wins;
	// forward-only repair cannot change it.
	Diverged
	// RolledBack: the provider holds some key below a version it confirmed to
	// this client before (acknowledged, was repaired to, or returned): it lost
	// durable writes or was restored from old data. Versions only rise, so this
	// is never a mere lag.
	RolledBack
	// Faulty: the provider's reply failed verification (server HMAC, value HMAC,
	// keys outside the prefix, wrong server_id). All of its data is ignored.
	Faulty
	// Unreachable: no usable reply (down, timed out, refused the request, or not
	// heard from before the read quorum and its grace were in).
	Unreachable
)

var statusNames = map[Status]string{
	UpToDate:    "up to date",
	Ahead:       "ahead",
	Behind:      "behind",
	Diverged:    "diverged",
	RolledBack:  "rolled back",
	Faulty:      "faulty",
	Unreachable: "unreachable",
}

// String is the status in plain words.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MarshalText makes a Status readable in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (s *Status) UnmarshalText(b []byte) error {
	for k, n := range statusNames {
		if n == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("unknown provider status %q", b)
}

// KeyComparison is one key on one provider compared with the other providers.
type KeyComparison struct {
	Key string `json:"key"`
	// Version is what this provider holds; -1 when it does not hold the key.
	Version int64 `json:"version"`
	// Others is the highest version of the key among the other valid replies;
	// -1 when no other provider holds it. For behind and missing keys it is the
	// merged version.
	Others int64 `json:"others"`
}

// String reads like "key "a": holds v1, others v3".
func (kv KeyComparison) String() string {
	return fmt.Sprintf("%q: holds %s, others %s", kv.Key, versionWord(kv.Version), versionWord(kv.Others))
}

func versionWord(v int64) string {
	if v < 0 {
		return "nothing"
	}
	return fmt.Sprintf("v%d", v)
}

// ProviderState is what a read found about one provider.
type ProviderState struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Keys is how many keys the provider returned (valid replies only).
	Keys int `json:"keys"`
	// Behind are keys it holds at a lower version than the merge.
	Behind []KeyComparison `json:"behind,omitempty"`
	// Missing are keys others hold that it does not return.
	Missing []KeyComparison `json:"missing,omitempty"`
	// Ahead are keys where it alone holds the highest version.
	Ahead []KeyComparison `json:"ahead,omitempty"`
	// Diverged are keys where it holds the merged version with another value.
	Diverged []KeyComparison `json:"diverged,omitempty"`
	// Tampered are values whose value HMAC failed (the provider is Faulty).
	Tampered []KeyComparison `json:"tampered,omitempty"`
	// Unproven are keys (atomic mode) it holds at a version newer than the
	// merge without a commit proof: never read (GetResult.Pending). They are
	// not also Missing or Behind: a forward-only repair cannot replace them;
	// recovery settles their transaction. The provider is Behind.
	Unproven []KeyComparison `json:"unproven,omitempty"`
	// RolledBack are keys this provider now holds below a version it confirmed
	// to this client before (acknowledged a put of, was repaired to, or
	// returned): it lost durable writes or was restored from old data. Versions
	// only rise, so this is never a mere lag. The provider is RolledBack.
	RolledBack []KeyLoss `json:"rolled_back,omitempty"`
	// BelowWatermark are keys, not already in RolledBack, that the provider holds
	// below the version acknowledged to this client while the whole read is
	// below it too (Confirmed is the acknowledged version). Without a record of
	// what this provider confirmed, it cannot be told whether it lost the write
	// or never had it; either way it is not up to date.
	BelowWatermark []KeyLoss `json:"below_watermark,omitempty"`
	// Err says why the provider is Faulty or Unreachable; it names the provider.
	Err error `json:"-"`
	// Error is Err as text, for JSON.
	Error string `json:"error,omitempty"`
}

// NeedsRepair reports whether forward-only repair would change this provider.
func (s ProviderState) NeedsRepair() bool {
	return s.Status != Faulty && s.Status != Unreachable && len(s.Behind)+len(s.Missing) > 0
}

// GetResult is the outcome of a Get.
type GetResult struct {
	// Entries are the merged entries, in key order.
	Entries []provider.Entry
	// Providers describe every provider, in configuration order.
	Providers []ProviderState
	// Pending are values newer than the entries, held without a commit proof
	// (atomic mode): not returned, to be settled by Recover.
	Pending []PendingEntry
}

// Provider returns the state of the named provider, and whether it exists.
func (r *GetResult) Provider(name string) (ProviderState, bool) {
	for _, s := range r.Providers {
		if s.Name == name {
			return s, true
		}
	}
	return ProviderState{}, false
}

// Value returns the merged entry for key, and whether there is one.
func (r *GetResult) Value(key string) (provider.Entry, bool) {
	for _, e := range r.Entries {
		if e.Key == key {
			return e, true
		}
	}
	return provider.Entry{}, false
}
