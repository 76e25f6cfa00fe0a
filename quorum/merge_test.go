package quorum

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/lssquorum/lss/provider"
)

// ent is an entry whose stored bytes are just its value: merge compares stored
// bytes and never looks inside them.
func ent(key string, version int64, value string) provider.Entry {
	return provider.Entry{Key: key, Version: version, Value: []byte(value), Stored: []byte(value)}
}

func ok(name string, es ...provider.Entry) reply { return reply{name: name, entries: es} }

func failed(name string, err error, es ...provider.Entry) reply {
	return reply{name: name, entries: es, err: &provider.Error{Provider: name, Op: "get", Err: err}}
}

// kc is key on one provider at version beside the others' version.
func kc(key string, version, others int64) KeyComparison {
	return KeyComparison{Key: key, Version: version, Others: others}
}

// short renders merged entries as key@version=value for comparison.
func short(es []provider.Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s@%d=%s", e.Key, e.Version, e.Stored))
	}
	return out
}

func TestMerge(t *testing.T) {
	t.Parallel()
	tampered := &provider.TamperedError{Provider: "c", Keys: []provider.KeyVersion{{Key: "a", Version: 9}}}
	tests := []struct {
		name    string
		replies []reply
		merged  []string
		states  []ProviderState // Err is checked only for being nil or not
		marks   map[string]Mark
		ties    []string // "key@version" of each tie
	}{
		{
			name:    "all agree",
			replies: []reply{ok("a", ent("k1", 0, "x"), ent("k2", 3, "y")), ok("b", ent("k1", 0, "x"), ent("k2", 3, "y"))},
			merged:  []string{"k1@0=x", "k2@3=y"},
			states:  []ProviderState{{Name: "a", Status: UpToDate, Keys: 2}, {Name: "b", Status: UpToDate, Keys: 2}},
		},
		{
			name:    "nothing stored",
			replies: []reply{ok("a"), ok("b")},
			merged:  []string{},
			states:  []ProviderState{{Name: "a", Status: UpToDate}, {Name: "b", Status: UpToDate}},
		},
		{
			name: "one provider behind on a version and missing a key",
			replies: []reply{
				ok("a", ent("k1", 2, "new"), ent("k2", 0, "z")),
				ok("b", ent("k1", 2, "new"), ent("k2", 0, "z")),
				ok("c", ent("k1", 1, "old")),
			},
			merged: []string{"k1@2=new", "k2@0=z"},
			states: []ProviderState{
				{Name: "a", Status: UpToDate, Keys: 2},
				{Name: "b", Status: UpToDate, Keys: 2},
				{Name: "c", Status: Behind, Keys: 1, Behind: []KeyComparison{kc("k1", 1, 2)}, Missing: []KeyComparison{kc("k2", -1, 0)}},
			},
		},
		{
			name: "a provider alone holding a higher version wins and is ahead",
			replies: []reply{
				ok("a", ent("k", 5, "v5")),
				ok("b", ent("k", 4, "v4")),
				ok("c", ent("k", 4, "v4")),
			},
			merged: []string{"k@5=v5"},
			states: []ProviderState{
				{Name: "a", Status: Ahead, Keys: 1, Ahead: []KeyComparison{kc("k", 5, 4)}},
				{Name: "b", Status: Behind, Keys: 1, Behind: []KeyComparison{kc("k", 4, 5)}},
				{Name: "c", Status: Behind, Keys: 1, Behind: []KeyComparison{kc("k", 4, 5)}},
			},
		},
		{
			name: "a key only one provider holds",
			replies: []reply{
				ok("a", ent("k", 0, "v")),
				ok("b"),
			},
			merged: []string{"k@0=v"},
			states: []ProviderState{
				{Name: "a", Status: Ahead, Keys: 1, Ahead: []KeyComparison{kc("k", 0, -1)}},
				{Name: "b", Status: Behind, Missing: []KeyComparison{kc("k", -1, 0)}},
			},
		},
		{
			name:    "a single valid reply is never ahead",
			replies: []reply{ok("a", ent("k", 0, "v")), failed("b", provider.ErrUnavailable)},
			merged:  []string{"k@0=v"},
			states:  []ProviderState{{Name: "a", Status: UpToDate, Keys: 1}, {Name: "b", Status: Unreachable, Err: errors.New("x")}},
		},
		{
			name: "a reply failing the server HMAC is faulty and its higher versions ignored",
			replies: []reply{
				ok("a", ent("k", 1, "v1")),
				ok("b", ent("k", 1, "v1")),
				failed("c", provider.ErrServerHMAC, ent("k", 7, "forged")),
			},
			merged: []string{"k@1=v1"},
			states: []ProviderState{
				{Name: "a", Status: UpToDate, Keys: 1},
				{Name: "b", Status: UpToDate, Keys: 1},
				{Name: "c", Status: Faulty, Err: errors.New("x")},
			},
		},
		{
			name: "a tampered value makes its provider faulty, even its valid entries are ignored",
			replies: []reply{
				ok("a", ent("a", 9, "good"), ent("z", 1, "z")),
				ok("b", ent("a", 9, "good"), ent("z", 1, "z")),
				failed("c", tampered, ent("z", 2, "z2")),
			},
			merged: []string{"a@9=good", "z@1=z"},
			states: []ProviderState{
				{Name: "a", Status: UpToDate, Keys: 2},
				{Name: "b", Status: UpToDate, Keys: 2},
				{Name: "c", Status: Faulty, Tampered: []KeyComparison{kc("a", 9, 9)}, Err: errors.New("x")},
			},
		},
		{
			name: "wrong server_id and invalid listings are faulty, unavailable is unreachable",
			replies: []reply{
				ok("a", ent("k", 0, "v")),
				failed("b", provider.ErrServerIDMismatch),
				failed("c", provider.ErrInvalidReply),
				failed("d", provider.ErrUnavailable),
				failed("e", errNotAwaited),
			},
			merged: []string{"k@0=v"},
			states: []ProviderState{
				{Name: "a", Status: UpToDate, Keys: 1},
				{Name: "b", Status: Faulty, Err: errors.New("x")},
				{Name: "c", Status: Faulty, Err: errors.New("x")},
				{Name: "d", Status: Unreachable, Err: errors.New("x")},
				{Name: "e", Status: Unreachable, Err: errors.New("x")},
			},
		},
		{
			name: "two values at one version: the one W replies hold wins, the other diverged",
			replies: []reply{
				ok("a", ent("k", 1, "retry")),
				ok("b", ent("k", 1, "first")),
				ok("c", ent("k", 1, "retry")),
			},
			merged: []string{"k@1=retry"},
			states: []ProviderState{
				{Name: "a", Status: UpToDate, Keys: 1},
				{Name: "b", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 1, 1)}},
				{Name: "c", Status: UpToDate, Keys: 1},
			},
		},
		{
			// Observation 8: a failed put left "a" on one provider, its retry "b"
			// was acknowledged by two; with one of those away, the watermark
			// says which is the acknowledged value, whatever the byte order.
			name: "two values at one version, one each: the watermark's digest wins",
			replies: []reply{
				ok("a", ent("k", 1, "a")),
				ok("b", ent("k", 1, "b")),
			},
			marks:  map[string]Mark{"k": {Version: 1, Digest: ValueDigest([]byte("b"))}},
			merged: []string{"k@1=b"},
			states: []ProviderState{
				{Name: "a", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 1, 1)}},
				{Name: "b", Status: UpToDate, Keys: 1},
			},
		},
		{
			name: "the watermark's digest beats a write quorum's count",
			replies: []reply{
				ok("a", ent("k", 1, "a")),
				ok("b", ent("k", 1, "a")),
				ok("c", ent("k", 1, "b")),
			},
			marks:  map[string]Mark{"k": {Version: 1, Digest: ValueDigest([]byte("b"))}},
			merged: []string{"k@1=b"},
			states: []ProviderState{
				{Name: "a", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 1, 1)}},
				{Name: "b", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 1, 1)}},
				{Name: "c", Status: UpToDate, Keys: 1},
			},
		},
		{
			name: "two values at one version, one each, no watermark: a tie, not a byte-order pick",
			replies: []reply{
				ok("a", ent("k", 1, "bbb"), ent("z", 0, "z")),
				ok("b", ent("k", 1, "aaa"), ent("z", 0, "z")),
			},
			merged: []string{"z@0=z"},
			ties:   []string{"k@1"},
			states: []ProviderState{
				{Name: "a", Status: Diverged, Keys: 2, Diverged: []KeyComparison{kc("k", 1, 1)}},
				{Name: "b", Status: Diverged, Keys: 2, Diverged: []KeyComparison{kc("k", 1, 1)}},
			},
		},
		{
			name: "a watermark at a lower version does not settle a tie above it",
			replies: []reply{
				ok("a", ent("k", 2, "x")),
				ok("b", ent("k", 2, "y")),
			},
			marks:  map[string]Mark{"k": {Version: 1, Digest: ValueDigest([]byte("x"))}},
			merged: []string{},
			ties:   []string{"k@2"},
			states: []ProviderState{
				{Name: "a", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 2, 2)}},
				{Name: "b", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 2, 2)}},
			},
		},
		{
			name: "a watermark digest at the top version that neither value matches: a tie",
			replies: []reply{
				ok("a", ent("k", 1, "x")),
				ok("b", ent("k", 1, "x")),
				ok("c", ent("k", 1, "y")),
			},
			marks:  map[string]Mark{"k": {Version: 1, Digest: ValueDigest([]byte("acknowledged"))}},
			merged: []string{},
			ties:   []string{"k@1"},
			states: []ProviderState{
				{Name: "a", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 1, 1)}},
				{Name: "b", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 1, 1)}},
				{Name: "c", Status: Diverged, Keys: 1, Diverged: []KeyComparison{kc("k", 1, 1)}},
			},
		},
		{
			name: "diverged outranks behind",
			replies: []reply{
				ok("a", ent("j", 0, "x"), ent("k", 1, "b")),
				ok("b", ent("j", 1, "y"), ent("k", 1, "a")),
				ok("c", ent("j", 1, "y"), ent("k", 1, "a")),
			},
			merged: []string{"j@1=y", "k@1=a"},
			states: []ProviderState{
				{Name: "a", Status: Diverged, Keys: 2, Behind: []KeyComparison{kc("j", 0, 1)}, Diverged: []KeyComparison{kc("k", 1, 1)}},
				{Name: "b", Status: UpToDate, Keys: 2},
				{Name: "c", Status: UpToDate, Keys: 2},
			},
		},
		{
			name:    "no valid reply at all",
			replies: []reply{failed("a", provider.ErrUnavailable), failed("b", provider.ErrServerHMAC)},
			merged:  []string{},
			states:  []ProviderState{{Name: "a", Status: Unreachable, Err: errors.New("x")}, {Name: "b", Status: Faulty, Err: errors.New("x")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := len(tt.replies)/2 + 1
			m := merge(tt.replies, tt.marks, w)
			merged, states := m.merged, m.states
			if got := short(merged); !reflect.DeepEqual(got, tt.merged) {
				t.Errorf("merged = %v, want %v", got, tt.merged)
			}
			if len(m.holders) != len(merged) {
				t.Errorf("%d holder counts for %d merged entries", len(m.holders), len(merged))
			}
			ties := []string{}
			for _, tie := range m.ties {
				ties = append(ties, fmt.Sprintf("%s@%d", tie.Key, tie.Version))
			}
			if want := append([]string{}, tt.ties...); !reflect.DeepEqual(ties, want) {
				t.Errorf("ties = %v, want %v", ties, want)
			}
			if len(states) != len(tt.states) {
				t.Fatalf("%d states, want %d", len(states), len(tt.states))
			}
			for i, want := range tt.states {
				got := states[i]
				if (got.Err == nil) != (want.Err == nil) || got.Err != nil && got.Error != got.Err.Error() {
					t.Errorf("%s: err = %v (%q), want error: %v", want.Name, got.Err, got.Error, want.Err != nil)
				}
				got.Err, want.Err, got.Error = nil, nil, ""
				if !reflect.DeepEqual(got, want) {
					t.Errorf("state %d =\n  %+v\nwant\n  %+v", i, got, want)
				}
			}
		})
	}
}

func TestMergeErrorsNameTheProvider(t *testing.T) {
	t.Parallel()
	m := merge([]reply{failed("alpha", provider.ErrServerHMAC)}, nil, 1)
	if got := m.states[0].Err.Error(); got != "provider alpha: get: server HMAC mismatch" {
		t.Errorf("err = %q", got)
	}
}

// A provider that lost versions it confirmed is rolled back even when the merge
// (every provider rolled back) does not show it lagging.
func TestStatusOfRolledBackProvider(t *testing.T) {
	t.Parallel()
	s := ProviderState{Name: "a", RolledBack: []KeyLoss{{Key: "k", Confirmed: 3, Held: 1}}}
	if got := statusOf(s); got != RolledBack {
		t.Errorf("status = %v, want rolled back", got)
	}
	s.Err = &provider.Error{Provider: "a", Op: "get", Err: provider.ErrServerHMAC}
	if got := statusOf(s); got != Faulty {
		t.Errorf("status with a forged reply = %v, want faulty", got)
	}
}
