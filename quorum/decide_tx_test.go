package quorum

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
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
		{3, 2, "C??", Undecided},     // one provider's "committed" is only its word
		{3, 2, "CP?", DecidedCommit}, // committed counts as prepared
		{3, 2, "CAA", DecidedAbort},  // only a lying provider says committed here
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

func TestTally(t *testing.T) {
	cases := []struct {
		t               tally
		won, lost, done bool
	}{
		{tally{n: 3, need: 2, yes: 2}, true, false, true},
		{tally{n: 3, need: 2, yes: 1, no: 1}, false, false, false},
		{tally{n: 3, need: 2, yes: 1, no: 2}, false, true, true},
		{tally{n: 3, need: 3, no: 1}, false, true, true},
		{tally{n: 5, need: 3, yes: 2, no: 2}, false, false, false},
		{tally{n: 1, need: 1}, false, false, false},
	}
	for _, c := range cases {
		if c.t.won() != c.won || c.t.lost() != c.lost || c.t.done() != c.done {
			t.Errorf("%+v: won %v lost %v done %v, want %v %v %v", c.t, c.t.won(), c.t.lost(), c.t.done(), c.won, c.lost, c.done)
		}
	}
}

// votes builds authenticated views: 'P'/'C' prepared/committed with the valid
// seal S, 'p'/'c' the same with a seal that does not verify (kept or forged by
// the provider), 'Q' prepared with another valid seal, '!' a valid commit proof,
// and '?', '-', 'A' as in views.
func votes(s string) []txVote {
	var out []txVote
	for _, r := range s {
		v := txVote{}
		switch r {
		case '?':
			v.View = TxNoAnswer
		case '-':
			v.View = TxNone
		case 'A':
			v.View = TxAborted
		case 'P', 'C', 'p', 'c', 'Q':
			v.View, v.Seal, v.SealOK = TxPrepared, []byte("S"), r == 'P' || r == 'C' || r == 'Q'
			if r == 'C' || r == 'c' {
				v.View = TxCommitted
			}
			if r == 'Q' {
				v.Seal = []byte("other")
			}
		case '!':
			v.View, v.ProofOK = TxCommitted, true
		}
		out = append(out, v)
	}
	return out
}

func TestDecideVotes(t *testing.T) {
	cases := []struct {
		n, w  int
		votes string
		want  Decision
	}{
		{3, 2, "PP?", DecidedCommit},
		{3, 2, "PC?", DecidedCommit},
		{3, 2, "Pp?", Undecided},     // observation 2: a record whose seal fails counts for nothing
		{3, 2, "cc?", Undecided},     // nor does "committed" without a valid seal
		{3, 2, "PQ?", Undecided},     // views agree only when their seals are equal
		{3, 2, "!??", DecidedCommit}, // a valid commit proof decides
		{3, 2, "!AA", DecidedCommit}, // ... whatever the fences (only a forgotten fence can cause this)
		{3, 2, "pAA", DecidedAbort},
		{3, 2, "PA?", Undecided},
		{3, 3, "PPA", DecidedAbort},
		{1, 1, "P", DecidedCommit},
		{1, 1, "p", Undecided},
	}
	for _, c := range cases {
		if got := decideVotes(c.n, c.w, votes(c.votes)); got != c.want {
			t.Errorf("decideVotes(n=%d, w=%d, %s) = %v, want %v", c.n, c.w, c.votes, got, c.want)
		}
	}
}

// TestDecideVotesNeverBoth extends the exhaustive check to the authenticated
// rule: for every assignment of views, valid seals and forged ones, a commit
// cannot turn into an abort by fencing every other provider, an abort cannot
// turn into a commit by every unfenced provider preparing, and forged records
// never help a commit.
func TestDecideVotesNeverBoth(t *testing.T) {
	all := votes("?-PCpcA")
	for n := 1; n <= 5; n++ {
		for w := 1; w <= n; w++ {
			vs := make([]txVote, n)
			var walk func(i int)
			walk = func(i int) {
				if i < n {
					for _, v := range all {
						vs[i] = v
						walk(i + 1)
					}
					return
				}
				d := decideVotes(n, w, vs)
				honest, forged := slices.Clone(vs), false
				for j, v := range honest {
					if (v.View == TxPrepared || v.View == TxCommitted) && !v.SealOK {
						honest[j], forged = txVote{View: TxNoAnswer}, true
					}
				}
				if d == DecidedCommit && decideVotes(n, w, honest) != DecidedCommit {
					t.Fatalf("n=%d w=%d %+v: commit decided with the help of forged records", n, w, vs)
				}
				fenced := slices.Clone(vs)
				for j, v := range fenced {
					if !v.SealOK {
						fenced[j] = txVote{View: TxAborted}
					}
				}
				if d == DecidedCommit && decideVotes(n, w, fenced) != DecidedCommit {
					t.Fatalf("n=%d w=%d %+v: commit decided, then abort after fencing", n, w, vs)
				}
				prep := slices.Clone(vs)
				for j, v := range prep {
					if v.View != TxAborted {
						prep[j] = txVote{View: TxPrepared, Seal: []byte("S"), SealOK: true}
					}
				}
				if d == DecidedAbort && decideVotes(n, w, prep) != DecidedAbort {
					t.Fatalf("n=%d w=%d %+v: abort decided, then commit after preparing", n, w, vs)
				}
				// The coordinator's rule over the same views agrees whenever
				// every record is authentic.
				if !forged {
					plain := make([]TxView, n)
					for j, v := range vs {
						plain[j] = v.View
					}
					if decide(n, w, plain) != d {
						t.Fatalf("n=%d w=%d %+v: decide and decideVotes disagree", n, w, vs)
					}
				}
			}
			walk(0)
		}
	}
}

func TestYoungTx(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	window := 10 * time.Second
	cases := []struct {
		born time.Time
		want bool
	}{
		{now, true},
		{now.Add(-9 * time.Second), true},
		{now.Add(-11 * time.Second), false},
		{now.Add(5 * time.Second), true}, // a little clock skew
		{now.Add(time.Hour), false},      // not a time this client wrote: treated as old
		{time.UnixMilli(0), false},
	}
	for _, c := range cases {
		if got := youngTx(newTxID(c.born), now, window); got != c.want {
			t.Errorf("youngTx(born %v before now) = %v, want %v", now.Sub(c.born), got, c.want)
		}
	}
	if youngTx([]byte("short"), now, window) {
		t.Error("a txid of the wrong length is young")
	}
}

func TestPlanRecovery(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		d       Decision
		views   string
		counted []bool
		entries bool
		want    []txStep
	}{
		{Undecided, "P?-", []bool{yes, yes, no}, true, []txStep{stepNothing, stepFence, stepNothing}},
		{DecidedCommit, "P?-", []bool{yes, yes, no}, true, []txStep{stepCommit, stepCommit, stepRestore}},
		{DecidedCommit, "P?-", []bool{yes, yes, no}, false, []txStep{stepCommit, stepCommit, stepNothing}},
		{DecidedAbort, "PAA", []bool{yes, yes, yes}, true, []txStep{stepAbort, stepNothing, stepNothing}},
	}
	for _, c := range cases {
		if got := planRecovery(c.d, views(c.views), c.counted, c.entries); !slices.Equal(got, c.want) {
			t.Errorf("planRecovery(%v, %s, %v, %v) = %v, want %v", c.d, c.views, c.counted, c.entries, got, c.want)
		}
	}
}

// TestPlanRecoveryNeverFlips extends the exhaustive check to the recovery
// steps: for every assignment of views of n ≤ 5 participants, carrying out the
// planned steps (each provider answering as an honest one would, or not at
// all) never turns a decision into the other one, and settles it: after a
// commit or an abort whose steps all got through, no provider is left
// prepared.
func TestPlanRecoveryNeverFlips(t *testing.T) {
	all := []TxView{TxNoAnswer, TxNone, TxPrepared, TxCommitted, TxAborted}
	apply := func(s txStep, v TxView, answers bool) TxView {
		if !answers {
			return v
		}
		switch s {
		case stepFence:
			if v == TxNone || v == TxNoAnswer {
				return TxAborted
			}
		case stepCommit, stepRestore:
			if v == TxPrepared || v == TxNoAnswer {
				return TxCommitted
			}
		case stepAbort:
			if v == TxPrepared {
				return TxAborted
			}
		}
		return v
	}
	for n := 1; n <= 5; n++ {
		counted := slices.Repeat([]bool{true}, n)
		for w := 1; w <= n; w++ {
			vs := make([]TxView, n)
			var walk func(i int)
			walk = func(i int) {
				if i < n {
					for _, v := range all {
						vs[i] = v
						walk(i + 1)
					}
					return
				}
				d := decide(n, w, vs)
				for mask := range 1 << n { // which providers answer the steps
					after := slices.Clone(vs)
					steps := planRecovery(d, vs, counted, true)
					for j := range after {
						after[j] = apply(steps[j], after[j], mask&(1<<j) != 0)
					}
					d2 := decide(n, w, after)
					if d != Undecided && d2 != d {
						t.Fatalf("n=%d w=%d %v: decided %v, %v after the steps (answers %b)", n, w, vs, d, d2, mask)
					}
					if d != Undecided && mask == 1<<n-1 && slices.Contains(after, TxPrepared) {
						t.Fatalf("n=%d w=%d %v: %v carried out everywhere leaves %v", n, w, vs, d, after)
					}
				}
			}
			walk(0)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	committed := func(seal string) txVote { return txVote{View: TxCommitted, Seal: []byte(seal)} }
	prepared := func(seal string, ok bool) txVote { return txVote{View: TxPrepared, Seal: []byte(seal), SealOK: ok} }
	cases := []struct {
		name     string
		in       []txVote
		counts   []bool
		trusted  string
		conflict bool
	}{
		{"valid prepared and committed with its seal", []txVote{prepared("S", true), committed("S")}, []bool{true, true}, "S", false},
		{"committed with another seal", []txVote{prepared("S", true), committed("T")}, []bool{true, false}, "S", false},
		{"committed with no verified record", []txVote{committed("S"), committed("S")}, []bool{false, false}, "", false},
		{"prepared whose seal fails", []txVote{prepared("S", false), committed("S")}, []bool{false, false}, "", false},
		{"an empty seal never counts", []txVote{prepared("", true)}, []bool{false}, "", false},
		{"two valid seals", []txVote{prepared("S", true), prepared("T", true), committed("S")}, []bool{true, true, false}, "", true},
		{"fences and silence", []txVote{{View: TxAborted, SealOK: true}, {View: TxNone}}, []bool{false, false}, "", false},
	}
	for _, c := range cases {
		out, trusted, conflict := authenticate(c.in)
		counts := make([]bool, len(out))
		for i, v := range out {
			counts[i] = v.SealOK
		}
		if !slices.Equal(counts, c.counts) || string(trusted) != c.trusted || conflict != c.conflict {
			t.Errorf("%s: counts %v trusted %q conflict %v, want %v %q %v", c.name, counts, trusted, conflict, c.counts, c.trusted, c.conflict)
		}
	}
}

// TestAuthenticateNeverForgesACommit: for every assignment of records of n ≤ 4
// providers, among them records with seals that do not verify, the rule over
// the authenticated votes decides commit only if the same transaction without
// the unverified records (taken as silent) does too.
func TestAuthenticateNeverForgesACommit(t *testing.T) {
	all := []txVote{
		{View: TxNoAnswer}, {View: TxNone}, {View: TxAborted},
		{View: TxPrepared, Seal: []byte("S"), SealOK: true},
		{View: TxPrepared, Seal: []byte("S")}, // kept, but its record was altered
		{View: TxPrepared, Seal: []byte("F")}, // made up
		{View: TxCommitted, Seal: []byte("S")},
		{View: TxCommitted, Seal: []byte("F")},
	}
	for n := 1; n <= 4; n++ {
		for w := 1; w <= n; w++ {
			vs := make([]txVote, n)
			var walk func(i int)
			walk = func(i int) {
				if i < n {
					for _, v := range all {
						vs[i] = v
						walk(i + 1)
					}
					return
				}
				votes, _, _ := authenticate(vs)
				if decideVotes(n, w, votes) != DecidedCommit {
					return
				}
				// The honest providers alone: those with a verified prepared
				// record, and committed ones with its seal.
				honest := 0
				for _, v := range vs {
					if v.View == TxPrepared && v.SealOK || v.View == TxCommitted && string(v.Seal) == "S" {
						honest++
					}
				}
				valid := slices.ContainsFunc(vs, func(v txVote) bool { return v.View == TxPrepared && v.SealOK })
				if honest < w || !valid {
					t.Fatalf("n=%d w=%d %+v: commit decided from %d authentic records", n, w, vs, honest)
				}
			}
			walk(0)
		}
	}
}

func TestIsSplit(t *testing.T) {
	cases := []struct {
		n, w  int
		views string
		want  bool
	}{
		{3, 2, "CAA", true},
		{3, 2, "CCA", false}, // fenced where never prepared: normal
		{3, 2, "CA?", false},
		{3, 3, "CA-", true}, // one fence decides when all must prepare
		{3, 2, "PAA", false},
		{3, 2, "AAA", false},
		{5, 3, "CAAA-", true},
		{5, 3, "CCAA-", false},
	}
	for _, c := range cases {
		if got := isSplit(c.n, c.w, views(c.views)); got != c.want {
			t.Errorf("isSplit(n=%d, w=%d, %s) = %v, want %v", c.n, c.w, c.views, got, c.want)
		}
	}
}

func TestRecoveryHold(t *testing.T) {
	cases := []struct {
		d                      Decision
		inconsistent, recorded bool
		counted                int
		entries                bool
		want                   string
	}{
		{DecidedCommit, false, true, 3, true, ""},
		{DecidedAbort, false, true, 3, false, ""},
		{Undecided, false, true, 3, true, ""},
		{Undecided, false, false, 3, false, ""},
		{DecidedCommit, false, true, 3, false, "no provider returned its entries under a valid prepare seal"},
		{Undecided, false, true, 0, true, "none of this client's providers is among its recorded participants"},
		{Undecided, true, true, 3, true, "different valid prepare seals"},
	}
	for _, c := range cases {
		got := recoveryHold(c.d, c.inconsistent, c.recorded, c.counted, c.entries)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("recoveryHold(%v, inconsistent %v, recorded %v, counted %d, entries %v) = %q, want %q",
				c.d, c.inconsistent, c.recorded, c.counted, c.entries, got, c.want)
		}
	}
}
