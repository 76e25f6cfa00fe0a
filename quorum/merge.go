package quorum

import (
	"bytes"
	"errors"
	"slices"
	"strings"

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
	// unopened lists the entries whose value did not decrypt (encrypt.go).
	unopened map[string]openFailure
	// withheld are the verified entries splitCertified took out of entries
	// (atomic mode: no commit proof), in key order. They are never data, but
	// a provider holding one holds that version: it is not rolled back.
	withheld []provider.Entry
}

// held is every verified entry of r, certified or withheld, in key order.
func (r reply) held() []provider.Entry {
	if len(r.withheld) == 0 {
		return r.entries
	}
	all := slices.Concat(r.entries, r.withheld)
	slices.SortFunc(all, func(a, b provider.Entry) int { return strings.Compare(a.Key, b.Key) })
	return all
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

// mergeResult is what merge finds.
type mergeResult struct {
	// merged are the winning entries in key order; a key with an unresolved
	// tie is left out.
	merged []provider.Entry
	// holders is, per merged entry, how many valid replies hold exactly it
	// (same version, same value).
	holders []int
	// states follow the order of the replies.
	states []ProviderState
	// ties are the keys whose top version is held with different values that
	// neither the watermark nor a write quorum tells apart.
	ties []Tie
}

// merge combines the replies of a read and classifies every provider. marks is
// the client's watermark (it settles ties at the acknowledged version), w the
// write quorum (a value W valid replies hold was acknowledged).
//
// Only replies without an error count; a reply that failed verification is
// ignored entirely, even the entries in it that verified, because a provider that
// lies about one value cannot be trusted to have omitted nothing. Per key the
// highest version wins: every entry's value HMAC was verified, so a higher
// version was written by the client and is newer, whichever provider holds it.
// When valid replies hold the winning version with different values (two writes
// of the same version, e.g. a failed plain put and its retry), the value whose
// digest the watermark holds for that version wins, else a value held by at
// least W replies (it was acknowledged); otherwise the key is a Tie and is not
// merged: picking one would return a value the client may never have had
// acknowledged.
func merge(replies []reply, marks map[string]Mark, w int) mergeResult {
	states := make([]ProviderState, len(replies))
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
	res := mergeResult{states: states, merged: make([]provider.Entry, 0, total), holders: make([]int, 0, total)}
	// Every valid reply is in ascending key order (the provider checks it), so
	// the merge walks them side by side, one key at a time, with no maps.
	next := make([]int, len(replies)) // cursor into each reply's entries
	at := make([]*provider.Entry, len(replies))
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
		for i, r := range replies {
			at[i] = nil
			if r.err == nil && next[i] < len(r.entries) && r.entries[next[i]].Key == key {
				at[i] = &r.entries[next[i]]
				next[i]++
			}
		}
		mark, marked := marks[key]
		win, holders, tie := pickWinner(replies, at, mark, marked, w)
		if tie != nil {
			res.ties = append(res.ties, *tie)
		} else {
			res.merged = append(res.merged, *win)
			res.holders = append(res.holders, holders)
		}
		classify(states, replies, at, win, tie, valid, key)
	}

	markUnproven(states, replies, res)
	for i := range states {
		states[i].Status = statusOf(states[i])
		var tampered *provider.TamperedError
		if errors.As(states[i].Err, &tampered) {
			for _, kv := range tampered.Keys {
				states[i].Tampered = append(states[i].Tampered, KeyComparison{
					Key: kv.Key, Version: kv.Version, Others: mergedVersion(res.merged, kv.Key),
				})
			}
		}
	}
	return res
}

// classify records, for one key, how each valid reply compares with the
// winner win (nil when the key is a tie at tie.Version).
func classify(states []ProviderState, replies []reply, at []*provider.Entry, win *provider.Entry, tie *Tie, valid int, key string) {
	top := int64(-1)
	if win != nil {
		top = win.Version
	} else {
		top = tie.Version
	}
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
			states[i].Missing = append(states[i].Missing, KeyComparison{Key: key, Version: -1, Others: others})
		case e.Version < top:
			states[i].Behind = append(states[i].Behind, KeyComparison{Key: key, Version: e.Version, Others: others})
		case win == nil || !bytes.Equal(e.Value, win.Value):
			states[i].Diverged = append(states[i].Diverged, KeyComparison{Key: key, Version: e.Version, Others: others})
		case e.Version > others && valid > 1:
			states[i].Ahead = append(states[i].Ahead, KeyComparison{Key: key, Version: e.Version, Others: others})
		}
	}
}

// pickWinner chooses among the entries of one key (at[i] is reply i's entry,
// nil if it has none; at least one is set). The highest version wins. Among
// different values at that version: the one matching the watermark mark (if
// marked at that version with a digest), else the only one held by at least w
// replies; otherwise it is a tie. It returns the winner and how many replies
// hold it, or the tie.
func pickWinner(replies []reply, at []*provider.Entry, mark Mark, marked bool, w int) (*provider.Entry, int, *Tie) {
	top := int64(-1)
	for _, e := range at {
		if e != nil {
			top = max(top, e.Version)
		}
	}
	type candidate struct {
		entry     *provider.Entry
		providers []string
	}
	var cands []candidate
	for i, e := range at {
		if e == nil || e.Version != top {
			continue
		}
		found := false
		for j := range cands {
			if bytes.Equal(cands[j].entry.Value, e.Value) {
				cands[j].providers = append(cands[j].providers, replies[i].name)
				found = true
				break
			}
		}
		if !found {
			cands = append(cands, candidate{entry: e, providers: []string{replies[i].name}})
		}
	}
	if len(cands) == 1 {
		return cands[0].entry, len(cands[0].providers), nil
	}
	if marked && mark.Version == top && mark.Digest != nil {
		for _, c := range cands {
			if mark.matches(c.entry.Value) {
				return c.entry, len(c.providers), nil
			}
		}
	} else {
		var confirmed []candidate
		for _, c := range cands {
			if len(c.providers) >= w {
				confirmed = append(confirmed, c)
			}
		}
		if len(confirmed) == 1 {
			return confirmed[0].entry, len(confirmed[0].providers), nil
		}
	}
	tie := &Tie{Key: cands[0].entry.Key, Version: top}
	for _, c := range cands {
		tie.Values = append(tie.Values, TieValue{Digest: ValueDigest(c.entry.Value), Providers: c.providers})
	}
	return nil, 0, tie
}

// statusOf is the worst status that applies to s.
func statusOf(s ProviderState) Status {
	switch {
	case s.Err != nil && isFaulty(s.Err):
		return Faulty
	case s.Err != nil:
		return Unreachable
	case len(s.RolledBack) > 0:
		return RolledBack
	case len(s.Diverged) > 0:
		return Diverged
	case len(s.Behind)+len(s.Missing)+len(s.BelowWatermark)+len(s.Unproven) > 0:
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
