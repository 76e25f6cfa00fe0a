package quorum

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func views(s string) []TxView {
	m := map[rune]TxView{'?': TxNoAnswer, '-': TxNone, 'P': TxPrepared, 'C': TxCommitted, 'A': TxAborted}
	var out []TxView
	for _, r := range s {
		out = append(out, m[r])
	}
	return out
}

func TestDecide(t *testing.T) {
	cases := []struct {
		n, w  int
		views string
		want  Decision
	}{
		{3, 2, "PP?", DecidedCommit},
		{3, 2, "P??", Undecided},
		{3, 2, "P-?", Undecided}, // a refusal is not a fence
		{3, 2, "PA?", Undecided},
		{3, 2, "PAA", DecidedAbort},
		{3, 2, "AA?", DecidedAbort},
		{3, 2, "C??", DecidedCommit}, // committed anywhere means decided
		{3, 2, "CAA", DecidedCommit}, // cannot happen with honest providers; commit wins
		{3, 3, "PPA", DecidedAbort},  // one fence is enough when all must prepare
		{3, 3, "A??", DecidedAbort},
		{3, 3, "PPP", DecidedCommit},
		{5, 3, "PPP??", DecidedCommit},
		{5, 3, "PPAA?", Undecided},
		{5, 3, "PPAAA", DecidedAbort},
		{1, 1, "P", DecidedCommit},
		{1, 1, "A", DecidedAbort},
		{1, 1, "?", Undecided},
	}
	for _, c := range cases {
		if got := decide(c.n, c.w, views(c.views)); got != c.want {
			t.Errorf("decide(n=%d, w=%d, %s) = %v, want %v", c.n, c.w, c.views, got, c.want)
		}
	}
}

// TestDecideNeverBoth checks the safety argument by exhaustion: for every quorum and
// every assignment of views in which no provider is both prepared and aborted, the
// set of prepared providers that makes a commit and the set of aborted ones that
// makes an abort cannot both be large enough.
func TestDecideNeverBoth(t *testing.T) {
	all := []TxView{TxNoAnswer, TxNone, TxPrepared, TxAborted}
	for n := 1; n <= 5; n++ {
		for w := 1; w <= n; w++ {
			vs := make([]TxView, n)
			var walk func(i int)
			walk = func(i int) {
				if i == n {
					prepared := decide(n, w, vs) == DecidedCommit
					// Fence every undecided provider (the most an adversarial
					// recovery can do) and decide again: it must not flip.
					fenced := slices.Clone(vs)
					for j, v := range fenced {
						if v != TxPrepared {
							fenced[j] = TxAborted
						}
					}
					if prepared && decide(n, w, fenced) != DecidedCommit {
						t.Fatalf("n=%d w=%d %v: commit decided, then abort after fencing", n, w, vs)
					}
					// Prepare every provider not fenced: an abort must not flip.
					if decide(n, w, vs) == DecidedAbort {
						prep := slices.Clone(vs)
						for j, v := range prep {
							if v != TxAborted {
								prep[j] = TxPrepared
							}
						}
						if decide(n, w, prep) != DecidedAbort {
							t.Fatalf("n=%d w=%d %v: abort decided, then commit after preparing", n, w, vs)
						}
					}
					return
				}
				for _, v := range all {
					vs[i] = v
					walk(i + 1)
				}
			}
			walk(0)
		}
	}
}

// TestCheckAtomicMode: atomic mode is refused unless every server_id is pinned
// and W providers are pinned as extension providers.
func TestCheckAtomicMode(t *testing.T) {
	id := []byte{2}
	ext := ProviderConfig{ServerID: id}
	stock := ProviderConfig{ServerID: id, Stock: true}
	unpinned := ProviderConfig{}
	names := []string{"p0", "p1", "p2"}
	cases := []struct {
		mode Mode
		ps   []ProviderConfig
		w    int
		ok   bool
		msg  string
	}{
		{ModeAtomic, []ProviderConfig{ext, ext, stock}, 2, true, ""},
		{ModeAtomic, []ProviderConfig{ext, stock, stock}, 2, false, "needs W=2 providers that speak the extension, but only 1"},
		{ModeAtomic, []ProviderConfig{ext, ext, unpinned}, 2, false, "provider p2: atomic mode needs every server_id pinned"},
		{ModeAuto, []ProviderConfig{ext, stock, stock}, 2, true, ""},
		{ModePlain, []ProviderConfig{unpinned, stock, stock}, 2, true, ""},
	}
	for _, c := range cases {
		err := checkAtomicMode(c.mode, c.ps, names, c.w)
		if c.ok != (err == nil) || (err != nil && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.msg))) {
			t.Errorf("checkAtomicMode(%v, %+v, w=%d) = %v, want ok=%v (%q)", c.mode, c.ps, c.w, err, c.ok, c.msg)
		}
	}
}

func TestPlanTx(t *testing.T) {
	cases := []struct {
		d     Decision
		views string
		want  []txStep
	}{
		{DecidedCommit, "PP?-A", []txStep{stepCommit, stepCommit, stepCommit, stepRestore, stepRestore}},
		{DecidedCommit, "CP", []txStep{stepNothing, stepCommit}},
		{DecidedAbort, "PAA?-", []txStep{stepAbort, stepNothing, stepNothing, stepNothing, stepNothing}},
		{Undecided, "P?-A", []txStep{stepNothing, stepFence, stepFence, stepNothing}},
	}
	for _, c := range cases {
		if got := planTx(c.d, views(c.views)); !slices.Equal(got, c.want) {
			t.Errorf("planTx(%v, %s) = %v, want %v", c.d, c.views, got, c.want)
		}
	}
}
