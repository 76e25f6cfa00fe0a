package quorum

import (
	"slices"
	"strings"

	"github.com/lssquorum/lss/provider"
)

// planRepair returns, per provider that needs it, the merged entries to copy to
// it: every key it holds at a lower version or does not hold. Faulty and
// unreachable providers get nothing (their state is unknown), and diverged keys
// are left alone because a forward-only Restore cannot replace a value at the
// same version. Entries are in key order and carry the winning provider's stored
// bytes, so the copy is byte for byte.
func planRepair(merged []provider.Entry, states []ProviderState) map[string][]provider.Entry {
	plan := make(map[string][]provider.Entry)
	for _, s := range states {
		if !s.NeedsRepair() {
			continue
		}
		var es []provider.Entry
		for _, kv := range slices.Concat(s.Behind, s.Missing) {
			if i, ok := findEntry(merged, kv.Key); ok {
				es = append(es, merged[i])
			}
		}
		if len(es) == 0 {
			continue
		}
		slices.SortFunc(es, func(a, b provider.Entry) int { return strings.Compare(a.Key, b.Key) })
		plan[s.Name] = es
	}
	return plan
}

// splitForPut divides a provider's repair entries for a provider without the
// Restore extension. The base protocol's Put only accepts the next version
// (stored + 1, or 0 for a new key), so only entries exactly one step ahead of
// what the provider holds can be written; the rest cannot be repaired with the
// base protocol, since the intermediate versions are gone.
func splitForPut(es []provider.Entry, s ProviderState) (putable, unrepairable []provider.Entry) {
	have := heldVersions(s)
	for _, e := range es {
		h, known := have[e.Key]
		if known && e.Version == h+1 {
			putable = append(putable, e)
		} else {
			unrepairable = append(unrepairable, e)
		}
	}
	return putable, unrepairable
}

// findEntry finds key in entries sorted by key.
func findEntry(entries []provider.Entry, key string) (int, bool) {
	return slices.BinarySearchFunc(entries, key, func(e provider.Entry, k string) int { return strings.Compare(e.Key, k) })
}
