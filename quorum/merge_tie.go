package quorum

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrTie is matched (errors.Is) by every *TieError.
var ErrTie = errors.New("different values at the same version")

// Tie is one key whose highest version the providers hold with different
// values, none of which is known to be the acknowledged one.
type Tie struct {
	Key     string     `json:"key"`
	Version int64      `json:"version"`
	Values  []TieValue `json:"values"`
}

// TieValue is one of the values of a Tie and the providers that hold it.
type TieValue struct {
	// Digest is SHA-256 of the value.
	Digest    []byte   `json:"sha256"`
	Providers []string `json:"providers"`
}

// String reads like `"k" v1: p0 holds value 3e23e816…, p1 holds value ca978112…`.
func (t Tie) String() string {
	parts := make([]string, len(t.Values))
	for i, v := range t.Values {
		parts[i] = fmt.Sprintf("%s hold(s) value sha256 %s…", strings.Join(v.Providers, ", "), hex.EncodeToString(v.Digest)[:12])
	}
	return fmt.Sprintf("%q v%d: %s", t.Key, t.Version, strings.Join(parts, "; "))
}

// TieError is returned by Get instead of data when some key's newest version is
// held with different values and neither the watermark nor a write quorum says
// which one was acknowledged: typically a plain put that failed after reaching
// some providers and a retry of the same version, read by a client that did not
// keep its watermark. No entries are returned rather than a guess.
type TieError struct {
	Prefix string
	Ties   []Tie
}

// Error names every tied key, its values and the providers holding each.
func (e *TieError) Error() string {
	parts := make([]string, len(e.Ties))
	for i, t := range e.Ties {
		parts[i] = t.String()
	}
	return fmt.Sprintf("%v under prefix %q, none known to be the acknowledged one: %s "+
		"(read again once more providers answer, or write the key's next version)",
		ErrTie, e.Prefix, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrTie) hold.
func (e *TieError) Is(target error) bool { return target == ErrTie }

// isTied reports whether key is one of ties.
func isTied(ties []Tie, key string) bool {
	for _, t := range ties {
		if t.Key == key {
			return true
		}
	}
	return false
}
