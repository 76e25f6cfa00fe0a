package quorum

import (
	"errors"

	"github.com/hashicorp/go-multierror"

	"github.com/lssquorum/lss/provider"
)

// putReply is one provider's answer to a plain put, as gathered by the fan-out.
type putReply struct {
	name string
	// done is false when the provider had not answered when the put returned.
	done bool
	// sent is false when the request never left (no connection could be made).
	sent bool
	// err is the provider's failure; nil is an acknowledgement.
	err error
}

// PutResult is what a Put did on each provider.
type PutResult struct {
	// Mode is how the put was written: ModePlain or ModeAtomic.
	Mode Mode
	// Acked are the providers that confirmed the write, in configuration order.
	Acked []string
	// Failed are the providers that answered with an error (each naming it).
	Failed map[string]error
	// Pending are the providers still writing when Put returned; the write is
	// left running (bounded by Config.Timeout) because it helps convergence.
	Pending []string
	// TxID is the atomic put's transaction id (nil in plain mode).
	TxID []byte
	// Weakened are the base-protocol-only providers of an atomic put: they got the
	// write with a plain Put after the commit was decided, so they may miss it
	// (repair converges them) and cannot be fenced.
	Weakened []string
}

// decidePut turns the per-provider answers of a plain put into its outcome:
// success once w providers acknowledged. On failure the error is a *QuorumError
// naming every failed provider and the providers the write may have reached
// anyway: acknowledged, still pending, or failed in a way that does not prove the
// write was not applied (a timeout or a lost reply; only a conflict and a request
// never sent are proof). Replies are in configuration order.
func decidePut(w int, replies []putReply) (*PutResult, error) {
	res := &PutResult{Mode: ModePlain, Failed: make(map[string]error)}
	var errs *multierror.Error
	var reached []string
	for _, r := range replies {
		switch {
		case !r.done:
			res.Pending = append(res.Pending, r.name)
			reached = append(reached, r.name)
		case r.err == nil:
			res.Acked = append(res.Acked, r.name)
			reached = append(reached, r.name)
		default:
			res.Failed[r.name] = r.err
			errs = multierror.Append(errs, r.err)
			if r.sent && !errors.Is(r.err, provider.ErrConflict) {
				reached = append(reached, r.name)
			}
		}
	}
	if len(res.Acked) >= w {
		return res, nil
	}
	return res, &QuorumError{
		Op: "put", Need: w, Got: len(res.Acked), N: len(replies),
		Errs: errs.WrappedErrors(), MayHaveReached: reached,
	}
}
