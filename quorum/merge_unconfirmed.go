package quorum

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lssquorum/lss/provider"
)

// ErrUnconfirmed is matched (errors.Is) by every *UnconfirmedError.
var ErrUnconfirmed = errors.New("newest version not confirmed by a write quorum")

// KeyUnconfirmed is a key whose newest version too few providers hold.
type KeyUnconfirmed struct {
	Key     string `json:"key"`
	Version int64  `json:"version"`
	// Holders is how many providers hold it after the read tried to write it
	// back; fewer than W.
	Holders int `json:"holders"`
}

// UnconfirmedError is returned by a plain-mode Get instead of data when the
// newest version of some key is held by fewer than W providers, is not the
// version this client saw acknowledged, and could not be written back to
// enough providers (too few answered, or they cannot take it). In atomic mode
// it is returned for a certified value held by fewer than W whose transaction
// a provider still holds prepared after the read tried to settle it. Returning it
// would let a later read, from other providers, return an older version; it
// is typically a failed put's leftover, or a put still in flight. Read again
// once more providers answer (the write-back then completes).
type UnconfirmedError struct {
	Prefix string
	Keys   []KeyUnconfirmed
	W      int
}

// Error names every key with its version and how many providers hold it.
func (e *UnconfirmedError) Error() string {
	parts := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		parts[i] = fmt.Sprintf("%q v%d held by %d", k.Key, k.Version, k.Holders)
	}
	return fmt.Sprintf("%v under prefix %q (need %d): %s; read again once more providers answer",
		ErrUnconfirmed, e.Prefix, e.W, strings.Join(parts, ", "))
}

// Is makes errors.Is(err, ErrUnconfirmed) hold.
func (e *UnconfirmedError) Is(target error) bool { return target == ErrUnconfirmed }

// unconfirmed returns the merged entries that fewer than w providers hold and
// that are not the acknowledged version and value of the watermark mark,
// among those only selects.
func unconfirmed(m mergeResult, mark map[string]Mark, w int, only func(provider.Entry) bool) []KeyUnconfirmed {
	var out []KeyUnconfirmed
	for i, e := range m.merged {
		if m.holders[i] >= w || !only(e) {
			continue
		}
		if mk, ok := mark[e.Key]; ok && mk.Version == e.Version && mk.matches(e.Value) {
			continue
		}
		out = append(out, KeyUnconfirmed{Key: e.Key, Version: e.Version, Holders: m.holders[i]})
	}
	return out
}
