package quorum

import (
	"reflect"
	"testing"

	"github.com/lssquorum/lss/provider"
)

func TestPlanRepair(t *testing.T) {
	t.Parallel()
	merged := []provider.Entry{ent("a", 2, "a2"), ent("b", 0, "b0"), ent("c", 5, "c5")}
	states := []ProviderState{
		{Name: "current", Status: UpToDate},
		{Name: "lagging", Status: Behind, Behind: []KeyComparison{kc("c", 4, 5), kc("a", 1, 2)}, Missing: []KeyComparison{kc("b", -1, 0)}},
		{Name: "missing", Status: Behind, Missing: []KeyComparison{kc("c", -1, 5)}},
		{Name: "split", Status: Diverged, Diverged: []KeyComparison{kc("a", 2, 2)}},
		{Name: "split-and-behind", Status: Diverged, Behind: []KeyComparison{kc("b", 0, 0)}, Diverged: []KeyComparison{kc("a", 2, 2)}},
		{Name: "ahead", Status: Ahead, Ahead: []KeyComparison{kc("a", 2, 1)}},
		{Name: "liar", Status: Faulty, Behind: []KeyComparison{kc("a", 1, 2)}},
		{Name: "down", Status: Unreachable},
	}
	got := planRepair(merged, states)
	want := map[string][]string{
		"lagging":          {"a@2=a2", "b@0=b0", "c@5=c5"},
		"missing":          {"c@5=c5"},
		"split-and-behind": {"b@0=b0"},
	}
	if len(got) != len(want) {
		t.Errorf("plan covers %d providers, want %d: %v", len(got), len(want), got)
	}
	for name, es := range want {
		if s := short(got[name]); !reflect.DeepEqual(s, es) {
			t.Errorf("%s: plan %v, want %v", name, s, es)
		}
	}
}

func TestSplitForPut(t *testing.T) {
	t.Parallel()
	state := ProviderState{
		Behind:  []KeyComparison{kc("next", 3, 4), kc("gap", 1, 3)},
		Missing: []KeyComparison{kc("new", -1, 0), kc("newgap", -1, 2)},
	}
	es := []provider.Entry{ent("gap", 3, ""), ent("new", 0, ""), ent("newgap", 2, ""), ent("next", 4, ""), ent("unknown", 1, "")}
	putable, unrepairable := splitForPut(es, state)
	if got, want := short(putable), []string{"new@0=", "next@4="}; !reflect.DeepEqual(got, want) {
		t.Errorf("putable = %v, want %v", got, want)
	}
	if got, want := short(unrepairable), []string{"gap@3=", "newgap@2=", "unknown@1="}; !reflect.DeepEqual(got, want) {
		t.Errorf("unrepairable = %v, want %v", got, want)
	}
}
