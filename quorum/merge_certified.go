package quorum

import (
	"slices"
	"strings"

	"github.com/lssquorum/lss/provider"
)

// PendingEntry is a value that some providers hold newer than every certified
// value of its key, but without a valid commit proof: an atomic put not (yet)
// known to be committed. It is never returned as data; settling its
// transaction (Recover) either certifies it or leaves it to be overwritten.
type PendingEntry struct {
	Key     string `json:"key"`
	Version int64  `json:"version"`
	// TxID is the transaction that wrote it, as the provider reports it.
	TxID []byte `json:"txid,omitempty"`
	// Providers hold it.
	Providers []string `json:"providers"`
}

// splitCertified removes from every valid reply the entries certified rejects
// (in atomic mode: no valid commit proof), so only certified values are
// merged, and reports those newer than every certified value of their key as
// pending, per (key, version, txid), in key order. Uncertified entries at or
// below a certified version are stale and dropped silently.
func splitCertified(replies []reply, certified func(provider.Entry) bool, txid func(provider.Entry) []byte) ([]reply, []PendingEntry) {
	out := make([]reply, len(replies))
	top := map[string]int64{} // highest certified version per key
	var dropped []struct {
		name string
		e    provider.Entry
	}
	for i, r := range replies {
		out[i] = r
		if r.err != nil {
			continue
		}
		keep := make([]provider.Entry, 0, len(r.entries))
		for _, e := range r.entries {
			if certified(e) {
				keep = append(keep, e)
				if v, ok := top[e.Key]; !ok || e.Version > v {
					top[e.Key] = e.Version
				}
				continue
			}
			dropped = append(dropped, struct {
				name string
				e    provider.Entry
			}{r.name, e})
		}
		out[i].entries = keep
	}
	var pending []PendingEntry
	for _, d := range dropped {
		if v, ok := top[d.e.Key]; ok && d.e.Version <= v {
			continue
		}
		id := txid(d.e)
		j := slices.IndexFunc(pending, func(p PendingEntry) bool {
			return p.Key == d.e.Key && p.Version == d.e.Version && string(p.TxID) == string(id)
		})
		if j < 0 {
			pending = append(pending, PendingEntry{Key: d.e.Key, Version: d.e.Version, TxID: id})
			j = len(pending) - 1
		}
		pending[j].Providers = append(pending[j].Providers, d.name)
	}
	slices.SortStableFunc(pending, func(a, b PendingEntry) int { return strings.Compare(a.Key, b.Key) })
	return out, pending
}
