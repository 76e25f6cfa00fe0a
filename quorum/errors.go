package quorum

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lssquorum/lss/provider"
)

// ErrNoQuorum is matched (errors.Is) by every *QuorumError.
var ErrNoQuorum = errors.New("quorum not reached")

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("quorum client closed")

// QuorumError is a Put or Get that did not get enough provider answers. Errs
// holds one error per failed provider, each naming it; errors.Is and errors.As
// see through to them (for example provider.ErrConflict).
type QuorumError struct {
	// Op is "put" or "get".
	Op string
	// Need is W or R; Got how many providers answered successfully (put:
	// acknowledged; get: valid replies).
	Need, Got, N int
	// Errs are the per-provider failures, each naming its provider.
	Errs []error
	// MayHaveReached (put only) are the providers that may hold the write
	// anyway: those that acknowledged, and those whose answer was lost or late.
	// A later Get merges the highest version and repair converges the others.
	MayHaveReached []string
}

// Error says which quorum was missed and what happened on each provider.
func (e *QuorumError) Error() string {
	var b strings.Builder
	verb := "valid replies from"
	if e.Op == "put" {
		verb = "acknowledged by"
	}
	fmt.Fprintf(&b, "quorum %s: %v: %s %d of %d providers, need %d", e.Op, ErrNoQuorum, verb, e.Got, e.N, e.Need)
	for _, err := range e.Errs {
		fmt.Fprintf(&b, "; %v", err)
	}
	if e.Op == "put" {
		if len(e.MayHaveReached) > 0 {
			fmt.Fprintf(&b, "; the write may have reached %s: a later Get returns the highest version and repairs the others",
				strings.Join(e.MayHaveReached, ", "))
		} else {
			b.WriteString("; no provider stored the write")
		}
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoQuorum) hold.
func (e *QuorumError) Is(target error) bool { return target == ErrNoQuorum }

// Unwrap exposes the per-provider errors to errors.Is and errors.As.
func (e *QuorumError) Unwrap() []error { return e.Errs }

// named makes sure err names provider name: errors from the provider package
// already do; anything else (a cancelled context, a failed dial) is wrapped.
func named(name, op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Provider == name {
		return err
	}
	return &provider.Error{Provider: name, Op: op, Err: err}
}
