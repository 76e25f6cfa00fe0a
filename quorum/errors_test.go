package quorum

import (
	"errors"
	"strings"
	"testing"

	"github.com/lssquorum/lss/provider"
)

// TestErrorsExposePlainErrorLists: QuorumError and TxError give the
// per-provider failures as a plain []error, seen through by errors.Is and
// errors.As, and each named in the message: a caller needs no third-party type
// to inspect them.
func TestErrorsExposePlainErrorLists(t *testing.T) {
	conflict := &provider.ConflictError{Provider: "p1"}
	errs := []error{named("p0", "put", provider.ErrUnavailable), named("p1", "put", conflict)}
	cases := []struct {
		err      error
		sentinel error
	}{
		{&QuorumError{Op: "put", Need: 2, Got: 1, N: 3, Errs: errs}, ErrNoQuorum},
		{&TxError{TxID: []byte{1}, Decision: DecidedAbort, Errs: errs}, ErrTxAborted},
		{&TxError{TxID: []byte{1}, Indeterminate: true, Errs: errs}, ErrIndeterminate},
	}
	for _, c := range cases {
		var ce *provider.ConflictError
		if !errors.Is(c.err, c.sentinel) || !errors.Is(c.err, provider.ErrUnavailable) || !errors.As(c.err, &ce) || ce != conflict {
			t.Errorf("%T: errors.Is/As do not see %v and the per-provider errors", c.err, c.sentinel)
		}
		for _, e := range errs {
			if !strings.Contains(c.err.Error(), e.Error()) {
				t.Errorf("%T: %q does not name %q", c.err, c.err, e)
			}
		}
		if u, ok := c.err.(interface{ Unwrap() []error }); !ok || len(u.Unwrap()) != 2 {
			t.Errorf("%T: Unwrap() []error does not give the two failures", c.err)
		}
	}
	if (&QuorumError{}).Unwrap() != nil {
		t.Error("a QuorumError without failures unwraps to something")
	}
}
