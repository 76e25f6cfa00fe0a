package quorum

import (
	"errors"
	"strings"
	"testing"

	"github.com/lssquorum/lss/provider"
)

func TestAssess(t *testing.T) {
	t.Parallel()
	idA, idB := []byte{2, 0xaa}, []byte{3, 0xbb}
	perr := func(name string, err error) error { return &provider.Error{Provider: name, Op: "get", Err: err} }
	tests := []struct {
		name     string
		states   []ProviderState
		ids      []idCheck
		rolled   []KeyRollback
		verdict  Verdict
		checks   []ServerIDCheck
		problems []string // substrings, one per expected problem, in order
	}{
		{
			name:    "everyone up to date",
			states:  []ProviderState{{Name: "a", Keys: 1}, {Name: "b", Keys: 1}},
			ids:     []idCheck{{pinned: idA, presented: idA}, {presented: idB}},
			verdict: Agree,
			checks:  []ServerIDCheck{ServerIDPinned, ServerIDUnpinned},
		},
		{
			name: "behind, ahead, diverged",
			states: []ProviderState{
				{Name: "a", Status: Behind, Behind: []KeyComparison{{Key: "k", Version: 1, Others: 2}}, Missing: []KeyComparison{{Key: "m", Version: -1, Others: 0}},
					RolledBack: []KeyLoss{{Key: "k", Confirmed: 2, Held: 1}}},
				{Name: "b", Status: Ahead, Ahead: []KeyComparison{{Key: "k", Version: 2, Others: 1}}},
				{Name: "c", Status: Diverged, Diverged: []KeyComparison{{Key: "d", Version: 4, Others: 4}}},
			},
			ids:     []idCheck{{}, {}, {}},
			verdict: Disagree,
			checks:  []ServerIDCheck{ServerIDUnknown, ServerIDUnknown, ServerIDUnknown},
			problems: []string{
				`a ROLLED BACK: it lost versions it had confirmed to this client (restored from old data or lost writes): "k" confirmed at v2, now v1`,
				`a is BEHIND on 2 key(s) (lagging or rolled back): "k": holds v1, others v2; "m": holds nothing, others v0`,
				`b alone holds the newest version of "k": holds v2, others v1`,
				`c holds a different value at the merged version of "d" v4; forward-only repair cannot change it`,
			},
		},
		{
			name: "wrong server_id, unreachable, and below the read quorum",
			states: []ProviderState{
				{Name: "a", Keys: 3},
				{Name: "b", Status: Faulty, Err: perr("b", provider.ErrServerIDMismatch)},
				{Name: "c", Status: Unreachable, Err: perr("c", provider.ErrUnavailable)},
			},
			ids:     []idCheck{{pinned: idA, presented: idA}, {pinned: idA, presented: idB}, {pinned: idB}},
			verdict: Disagree,
			checks:  []ServerIDCheck{ServerIDPinned, ServerIDMismatch, ServerIDUnknown},
			problems: []string{
				"b is FAULTY: it presents server_id 03bb, not the pinned 02aa (another server answers at addr-b); its data is ignored",
				"c is unreachable: provider c: get: unavailable",
				"only 1 of 3 providers gave a verified reply; a read needs 2",
			},
		},
		{
			name:     "the whole quorum rolled back",
			states:   []ProviderState{{Name: "a"}, {Name: "b"}},
			ids:      []idCheck{{}, {}},
			rolled:   []KeyRollback{{Key: "k", Watermark: 5, Merged: 3}},
			verdict:  Disagree,
			checks:   []ServerIDCheck{ServerIDUnknown, ServerIDUnknown},
			problems: []string{`ROLLBACK of the whole quorum: every answering provider is below the versions this client saw acknowledged: "k" acknowledged at v5, providers hold v3`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addrs := make([]string, len(tt.states))
			for i, s := range tt.states {
				addrs[i] = "addr-" + s.Name
			}
			rep := assess("", addrs, tt.ids, nil, tt.states, tt.rolled, len(tt.states), 2, 2)
			if rep.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s", rep.Verdict, tt.verdict)
			}
			for i, want := range tt.checks {
				if got := rep.Providers[i].ServerIDCheck; got != want {
					t.Errorf("%s server_id check %s, want %s", tt.states[i].Name, got, want)
				}
			}
			if len(rep.Problems) != len(tt.problems) {
				t.Fatalf("problems %q, want %d", rep.Problems, len(tt.problems))
			}
			for i, want := range tt.problems {
				if !strings.Contains(rep.Problems[i], want) {
					t.Errorf("problem %d = %q, want it to say %q", i, rep.Problems[i], want)
				}
			}
			table := rep.Table()
			for _, p := range rep.Problems {
				if !strings.Contains(table, p) {
					t.Errorf("table leaves out %q:\n%s", p, table)
				}
			}
		})
	}
}

func TestRepairSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    ProviderRepair
		want string
	}{
		{ProviderRepair{Name: "a"}, "nothing to do"},
		{ProviderRepair{Restored: []KeyUpdate{{Key: "k", From: -1, To: 0}, {Key: "j", From: 1, To: 3}}}, `restored 2 key(s): "k" nothing→v0, "j" v1→v3`},
		{ProviderRepair{Unrepairable: []KeyUpdate{{Key: "k", From: 0, To: 2}}}, "1 key(s) cannot be repaired with the base protocol"},
		{ProviderRepair{Kept: []KeyComparison{{Key: "k"}}, Err: errors.New("provider a: boom")}, "1 key(s) already newer there, kept; provider a: boom"},
	}
	for _, tt := range tests {
		if got := tt.p.summary(); !strings.Contains(got, tt.want) {
			t.Errorf("summary = %q, want %q", got, tt.want)
		}
	}
}
