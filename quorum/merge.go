package quorum

import (
	"bytes"
	"errors"

	"github.com/lssquorum/lss/provider"
)

// reply is one provider's answer to a Get, as gathered by the fan-out.
type reply struct {
	name string
	// entries are the provider's verified entries in key order; ignored unless
	// err is nil.
	entries []provider.Entry
	// err is why the reply cannot be used. It names the provider.
	err error
}

// isFaulty tells a provider that answered with something that fails
// verification (it is lying, corrupted, or not the server we pinned) from one
// that merely did not answer usefully. A provider pinned as speaking the
// extension that answers UNIMPLEMENTED is faulty too: a stock server does not
// turn up at a pinned extension provider's address by accident, and an
// attacker who could make the client fall back would get a read whose HMAC
// does not cover the prefix.
func isFaulty(err error) bool {
	return errors.Is(err, provider.ErrServerHMAC) ||
		errors.Is(err, provider.ErrNotSupported) ||
		errors.Is(err, provider.ErrValueHMAC) ||
		errors.Is(err, provider.ErrInvalidReply) ||
		errors.Is(err, provider.ErrServerIDMismatch)
}

// merge combines the replies of a Get and classifies every provider.
//
// Only replies without an error count; a reply that failed verification is
// ignored entirely, even the entries in it that verified, because a provider that
// lies about one value cannot be trusted to have omitted nothing. Per key the
// highest version wins: every entry's value HMAC was verified, so a higher
// version was written by the client and is newer, whichever provider holds it.
// When valid replies hold the winning version with different values (two writes
// of the same version), the value held by more providers wins, then the smaller
// stored bytes, so the choice is deterministic.
//
// merged is in key order; states follow the order of replies.
func merge(replies []reply) (merged []provider.Entry, states []ProviderState) {
	states = make([]ProviderState, len(replies))
	valid, total := 0, 0
	for i, r := range replies {
		states[i] = ProviderState{Name: r.name, Err: r.err}
		if r.err == nil {
			states[i].Keys = len(r.entries)
			valid++
			total = max(total, len(r.entries))
		} else {
			states[i].Error = r.err.Error()
		}
	}
	// Every valid reply is in ascending key order (the provider checks it), so
	// the merge walks them side by side, one key at a time, with no maps.
	merged = make([]provider.Entry, 0, total)
	next := make([]int, len(replies)) // cursor into each reply's entries
	at := make([]*provider.Entry, len(replies))
	versions := make([]provider.Entry, 0, len(replies))
	for {
		key, found := "", false
		for i, r := range replies {
			if r.err != nil || next[i] == len(r.entries) {
				continue
			}
			if k := r.entries[next[i]].Key; !found || k < key {
				key, found = k, true
			}
		}
		if !found {
			break
		}
		versions = versions[:0]
		for i, r := range replies {
			at[i] = nil
			if r.err == nil && next[i] < len(r.entries) && r.entries[next[i]].Key == key {
				at[i] = &r.entries[next[i]]
				versions = append(versions, *at[i])
				next[i]++
			}
		}
		win := pickWinner(versions)
		merged = append(merged, win)
		for i := range replies {
			if replies[i].err != nil {
				continue
			}
			others := int64(-1)
			for j, e := range at {
				if j != i && e != nil && e.Version > others {
					others = e.Version
				}
			}
			e := at[i]
			switch {
			case e == nil:
				states[i].Missing = append(states[i].Missing, KeyVersion{Key: key, Version: -1, Others: others})
			case e.Version < win.Version:
				states[i].Behind = append(states[i].Behind, KeyVersion{Key: key, Version: e.Version, Others: others})
			case !bytes.Equal(e.Stored, win.Stored):
				states[i].Diverged = append(states[i].Diverged, KeyVersion{Key: key, Version: e.Version, Others: others})
			case e.Version > others && valid > 1:
				states[i].Ahead = append(states[i].Ahead, KeyVersion{Key: key, Version: e.Version, Others: others})
			}
		}
	}

	for i := range states {
		states[i].Status = statusOf(states[i])
		var tampered *provider.TamperedError
		if errors.As(states[i].Err, &tampered) {
			for _, kv := range tampered.Keys {
				states[i].Tampered = append(states[i].Tampered, KeyVersion{
					Key: kv.Key, Version: kv.Version, Others: mergedVersion(merged, kv.Key),
				})
			}
		}
	}
	return merged, states
}

// pickWinner returns the entry with the highest version; among entries of that
// version with different stored bytes, the one held most often, then the one with
// the smallest stored bytes.
// entries must not be empty.
func pickWinner(entries []provider.Entry) provider.Entry {
	top := entries[0].Version
	for _, e := range entries {
		top = max(top, e.Version)
	}
	type candidate struct {
		entry provider.Entry
		count int
	}
	var cands []candidate
	for _, e := range entries {
		if e.Version != top {
			continue
		}
		found := false
		for j := range cands {
			if bytes.Equal(cands[j].entry.Stored, e.Stored) {
				cands[j].count++
				found = true
				break
			}
		}
		if !found {
			cands = append(cands, candidate{entry: e, count: 1})
		}
	}
	best := cands[0]
	for _, c := range cands[1:] {
		if c.count > best.count || c.count == best.count && bytes.Compare(c.entry.Stored, best.entry.Stored) < 0 {
			best = c
		}
	}
	return best.entry
}

// statusOf is the worst status that applies to s.
func statusOf(s ProviderState) Status {
	switch {
	case s.Err != nil && isFaulty(s.Err):
		return Faulty
	case s.Err != nil:
		return Unreachable
	case len(s.Diverged) > 0:
		return Diverged
	case len(s.Behind)+len(s.Missing)+len(s.RolledBack) > 0:
		return Behind
	case len(s.Ahead) > 0:
		return Ahead
	}
	return UpToDate
}

// mergedVersion is the merged version of key, -1 if the merge has none.
func mergedVersion(merged []provider.Entry, key string) int64 {
	i, ok := findEntry(merged, key)
	if !ok {
		return -1
	}
	return merged[i].Version
}
