package quorum

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Errors matched (errors.Is) by a *TxError.
var (
	// ErrTxAborted: the atomic put was decided aborted; nothing was written
	// anywhere. It is a definite failure: retrying (after reading the current
	// versions, on a conflict) is safe.
	ErrTxAborted = errors.New("atomic put aborted")
	// ErrIndeterminate: the coordinator could not learn or complete the outcome.
	// The put may yet be committed or aborted, never split; Recover settles it.
	ErrIndeterminate = errors.New("atomic put outcome indeterminate")
)

// TxError is an atomic put that did not succeed.
type TxError struct {
	TxID []byte
	// Decision is what the decision rule concluded: DecidedAbort for a definite
	// failure; DecidedCommit when the put is committed but fewer than W providers
	// confirmed it in time; Undecided when too few providers answered to tell.
	Decision Decision
	// Indeterminate is true unless Decision is DecidedAbort.
	Indeterminate bool
	// Views is what each participating provider was last known to hold.
	Views map[string]TxView
	// Errs are the per-provider failures, each naming its provider; errors.As
	// finds a *provider.ConflictError among them.
	Errs []error
	// Need is the write quorum among participants; Prepared how many prepared;
	// Acked how many confirmed the commit.
	Need, Prepared, Acked int
}

func (e *TxError) Error() string {
	var b strings.Builder
	switch {
	case !e.Indeterminate:
		fmt.Fprintf(&b, "%v (txid %x): prepared on %d providers, need %d; nothing was written", ErrTxAborted, e.TxID, e.Prepared, e.Need)
	case e.Decision == DecidedAbort:
		fmt.Fprintf(&b, "%v (txid %x): decided aborted, yet a provider reports it committed: a provider rolled back its transaction records; audit names the split",
			ErrIndeterminate, e.TxID)
	case e.Decision == DecidedCommit:
		fmt.Fprintf(&b, "%v (txid %x): decided committed, but confirmed by %d providers, need %d; run Recover to complete it",
			ErrIndeterminate, e.TxID, e.Acked, e.Need)
	default:
		fmt.Fprintf(&b, "%v (txid %x): prepared on %d providers, need %d, and too few answered a fence to rule it out; run Recover to settle it",
			ErrIndeterminate, e.TxID, e.Prepared, e.Need)
	}
	names := make([]string, 0, len(e.Views))
	for n := range e.Views {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "; %s: %v", n, e.Views[n])
	}
	for _, err := range e.Errs {
		fmt.Fprintf(&b, "; %v", err)
	}
	return b.String()
}

// Is matches ErrTxAborted or ErrIndeterminate.
func (e *TxError) Is(target error) bool {
	if e.Indeterminate {
		return target == ErrIndeterminate
	}
	return target == ErrTxAborted
}

// Unwrap exposes the per-provider errors.
func (e *TxError) Unwrap() []error { return e.Errs }

// stage names a point of the atomic put where tests stop the coordinator, as if
// its process had died there.
type stage int

const (
	stagePrepared stage = iota + 1 // prepares sent and gathered, nothing decided
	stageDecided                   // decided, no Commit or Abort sent
)

// errCoordinatorStopped is returned when a test stopped the coordinator.
var errCoordinatorStopped = errors.New("coordinator stopped")

// testHooks let tests stop the coordinator at a stage (as if it crashed there,
// or to act on the network at that point) and choose txids.
type testHooks struct {
	stop func(stage) bool
	txid func() []byte
}

// stopAt reports whether the test hook stops the coordinator at s.
func (c *Client) stopAt(s stage) bool {
	return c.test.stop != nil && c.test.stop(s)
}

// newTxID picks a fresh random txid (or the test's).
func (c *Client) newTxID() []byte {
	if c.test.txid != nil {
		return c.test.txid()
	}
	return newTxID(time.Now())
}
