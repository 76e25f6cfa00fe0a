package quorum

import (
	"reflect"
	"testing"

	"github.com/lssquorum/lss/provider"
)

func TestLandingTxs(t *testing.T) {
	t.Parallel()
	replies := []reply{
		// t1 wrote a and b; only p0 holds them committed so far.
		ok("p0", cent("a", 1, "a1", "t1", true), cent("b", 1, "b1", "t1", true), cent("c", 4, "c4", "t4", true), ent("p", 1, "plain")),
		ok("p1", cent("a", 0, "a0", "t0", true), cent("b", 0, "b0", "t0", true), cent("c", 4, "c4", "t4", true), ent("p", 0, "old")),
		ok("p2", cent("a", 0, "a0", "t0", true), cent("b", 0, "b0", "t0", true), cent("c", 3, "c3", "t3", true)),
		failed("p3", provider.ErrValueHMAC, cent("a", 1, "a1", "t1", true)),
	}
	m := merge(replies, nil, 2)
	got := landingTxs(m, replies, 2)
	// c v4 is held by W; the plain value p is write-back's business; the
	// faulty p3 proves nothing.
	want := []landingTx{{TxID: []byte("t1"), Keys: []string{"a", "b"}, ProvenBy: []string{"p0"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("landingTxs = %+v, want %+v", got, want)
	}
	if got := landingTxs(m, replies, 1); len(got) != 0 {
		t.Errorf("with W = 1 every certified value is held by W, got %+v", got)
	}
	keys := landingKeys(append(want, landingTx{TxID: []byte("t5"), Keys: []string{"e"}}))
	if !reflect.DeepEqual(keys, map[string]bool{"a": true, "b": true, "e": true}) {
		t.Errorf("landingKeys = %v", keys)
	}
	if keys := landingKeys(nil); len(keys) != 0 {
		t.Errorf("landingKeys of nothing = %v, want none", keys)
	}
}

func TestProvesCommit(t *testing.T) {
	t.Parallel()
	entries := []provider.Entry{cent("a", 1, "a1", "t1", false), cent("b", 1, "b1", "t1", false)}
	valid := cent("b", 1, "b1", "t1", true)
	for _, tc := range []struct {
		name string
		e    provider.Entry
		want bool
	}{
		{"the transaction's value with a valid proof", valid, true},
		{"no valid proof", cent("b", 1, "b1", "t1", false), false},
		{"another transaction's proof", cent("b", 1, "b1", "t2", true), false},
		{"another version", cent("b", 2, "b1", "t1", true), false},
		{"another value", cent("b", 1, "bX", "t1", true), false},
		{"a key the transaction does not write", cent("z", 1, "b1", "t1", true), false},
	} {
		if got := provesCommit([]byte("t1"), entries, tc.e); got != tc.want {
			t.Errorf("%s: provesCommit = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A proof decides a transaction committed over any records: even when the
// fences of the providers that forgot it would decide an abort, and when its
// holder is not a counted participant.
func TestDecideFromAProof(t *testing.T) {
	t.Parallel()
	st := TxStatus{N: 3, W: 2, Counted: []string{"p0", "p1", "p2"}, votes: map[string]txVote{}}
	views := map[string]TxView{"p0": TxAborted, "p1": TxAborted, "p2": TxPrepared}
	st.votes["p2"] = txVote{View: TxPrepared, Seal: []byte("s"), SealOK: true}
	if d := st.decideFrom(views); d != DecidedAbort {
		t.Fatalf("without a proof: %v, want abort", d)
	}
	st.Proven = []string{"stock"}
	if d := st.decideFrom(views); d != DecidedCommit {
		t.Errorf("with a proof: %v, want commit", d)
	}
	st.Inconsistent = true
	if d := st.decideFrom(views); d != Undecided {
		t.Errorf("inconsistent seals with a proof: %v, want undecided (no entries can be trusted)", d)
	}
}
