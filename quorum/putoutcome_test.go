package quorum

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lssquorum/lss/provider"
)

func TestDecidePut(t *testing.T) {
	t.Parallel()
	perr := func(name string, err error) error { return &provider.Error{Provider: name, Op: "put", Err: err} }
	conflict := &provider.ConflictError{Provider: "c", Conflicts: []provider.Conflict{{Key: "k", Version: 4}}}
	tests := []struct {
		name    string
		w       int
		replies []putReply
		acked   []string
		pending []string
		failed  []string
		reached []string // nil for success
		errSays []string
	}{
		{
			name:    "all acknowledge",
			w:       2,
			replies: []putReply{{name: "a", done: true, sent: true}, {name: "b", done: true, sent: true}, {name: "c", done: true, sent: true}},
			acked:   []string{"a", "b", "c"},
		},
		{
			name: "W acknowledge, one still writing",
			w:    2,
			replies: []putReply{{name: "a", done: true, sent: true}, {name: "b"},
				{name: "c", done: true, sent: true}},
			acked:   []string{"a", "c"},
			pending: []string{"b"},
		},
		{
			name: "W acknowledge, one refused",
			w:    2,
			replies: []putReply{{name: "a", done: true, sent: true}, {name: "b", done: true, sent: true},
				{name: "c", done: true, sent: true, err: perr("c", conflict)}},
			acked:  []string{"a", "b"},
			failed: []string{"c"},
		},
		{
			name: "one ack, a conflict, a timeout: the write may be on the acker and the timed-out one",
			w:    2,
			replies: []putReply{{name: "a", done: true, sent: true},
				{name: "b", done: true, sent: true, err: perr("b", conflict)},
				{name: "c", done: true, sent: true, err: perr("c", provider.ErrUnavailable)}},
			acked:   []string{"a"},
			failed:  []string{"b", "c"},
			reached: []string{"a", "c"},
			errSays: []string{"acknowledged by 1 of 3 providers, need 2", "provider b: put: version conflict", "provider c: put: unavailable", "may have reached a, c"},
		},
		{
			name: "never sent and conflicts: the write reached nobody",
			w:    2,
			replies: []putReply{{name: "a", done: true, err: perr("a", provider.ErrUnavailable)},
				{name: "b", done: true, sent: true, err: perr("b", conflict)},
				{name: "c", done: true, sent: true, err: perr("c", conflict)}},
			failed:  []string{"a", "b", "c"},
			reached: []string{},
			errSays: []string{"acknowledged by 0 of 3", "no provider stored the write"},
		},
		{
			name: "a forged reply does not prove the write was not applied",
			w:    1,
			replies: []putReply{{name: "a", done: true, sent: true, err: perr("a", provider.ErrServerHMAC)},
				{name: "b"}},
			failed:  []string{"a"},
			pending: []string{"b"},
			reached: []string{"a", "b"},
			errSays: []string{"server HMAC mismatch", "may have reached"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := decidePut(tt.w, tt.replies)
			if !reflect.DeepEqual(res.Acked, tt.acked) || !reflect.DeepEqual(res.Pending, tt.pending) {
				t.Errorf("acked %v pending %v, want %v %v", res.Acked, res.Pending, tt.acked, tt.pending)
			}
			var failed []string
			for _, r := range tt.replies {
				if _, ok := res.Failed[r.name]; ok {
					failed = append(failed, r.name)
				}
			}
			if !reflect.DeepEqual(failed, tt.failed) {
				t.Errorf("failed %v, want %v", failed, tt.failed)
			}
			if tt.reached == nil {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			var qe *QuorumError
			if !errors.As(err, &qe) || !errors.Is(err, ErrNoQuorum) {
				t.Fatalf("err = %v, want *QuorumError", err)
			}
			if strings.Join(qe.MayHaveReached, ",") != strings.Join(tt.reached, ",") {
				t.Errorf("may have reached %v, want %v", qe.MayHaveReached, tt.reached)
			}
			for _, s := range tt.errSays {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestPutErrorSeesThroughToProviderErrors(t *testing.T) {
	t.Parallel()
	conflict := &provider.Error{Provider: "b", Op: "put", Err: &provider.ConflictError{Provider: "b"}}
	_, err := decidePut(2, []putReply{{name: "a", done: true, sent: true}, {name: "b", done: true, sent: true, err: conflict}})
	if !errors.Is(err, provider.ErrConflict) {
		t.Errorf("errors.Is(err, ErrConflict) is false for %v", err)
	}
	var ce *provider.ConflictError
	if !errors.As(err, &ce) || ce.Provider != "b" {
		t.Errorf("errors.As ConflictError failed for %v", err)
	}
}
