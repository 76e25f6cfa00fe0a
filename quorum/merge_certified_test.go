package quorum

import (
	"reflect"
	"slices"
	"testing"

	"github.com/lssquorum/lss/provider"
)

// cent is an entry with a txid and a commit proof (certified) or without.
func cent(key string, version int64, value, txid string, certified bool) provider.Entry {
	e := ent(key, version, value)
	e.TxID, e.Certified = []byte(txid), certified
	return e
}

func TestSplitCertified(t *testing.T) {
	t.Parallel()
	isCert := func(e provider.Entry) bool { return e.Certified || len(e.TxID) == 0 }
	txid := func(e provider.Entry) []byte { return e.TxID }
	replies := []reply{
		ok("a", cent("k", 1, "v1", "t1", true), cent("n", 0, "new", "t9", false)),
		ok("b", cent("k", 2, "aborted", "t2", false), cent("p", 0, "plain", "", false)),
		ok("c", cent("k", 2, "aborted", "t2", false), cent("k0", 0, "stale", "t0", false)),
		failed("d", provider.ErrValueHMAC, cent("k", 9, "forged", "t3", false)),
	}
	split, pending := splitCertified(replies, isCert, txid)
	// A resurrected aborted put (k v2 without a proof) is pending, never merged.
	m := merge(split, nil, 2)
	if got, want := short(m.merged), []string{"k@1=v1", "p@0=plain"}; !reflect.DeepEqual(got, want) {
		t.Errorf("merged %v, want %v", got, want)
	}
	// b and c hold k v2 unproven, not missing it; c's stale k0 and a's new n
	// (no certified version anywhere) are unproven too.
	for i, want := range [][]KeyComparison{
		{{Key: "n", Version: 0, Others: -1}},
		{{Key: "k", Version: 2, Others: 1}},
		{{Key: "k", Version: 2, Others: 1}, {Key: "k0", Version: 0, Others: -1}},
	} {
		s := m.states[i]
		listed := func(kvs []KeyComparison) bool {
			return slices.ContainsFunc(kvs, func(kv KeyComparison) bool {
				return slices.ContainsFunc(want, func(u KeyComparison) bool { return u.Key == kv.Key })
			})
		}
		if !reflect.DeepEqual(s.Unproven, want) || listed(s.Missing) || listed(s.Behind) || s.Status != Behind {
			t.Errorf("%s: unproven %v, missing %v, behind %v, status %v; want unproven %v, not also missing or behind",
				s.Name, s.Unproven, s.Missing, s.Behind, s.Status, want)
		}
	}
	want := []PendingEntry{
		{Key: "k", Version: 2, TxID: []byte("t2"), Providers: []string{"b", "c"}},
		// k0 v0 has no certified version at all: newer than nothing, pending.
		{Key: "k0", Version: 0, TxID: []byte("t0"), Providers: []string{"c"}},
		{Key: "n", Version: 0, TxID: []byte("t9"), Providers: []string{"a"}},
	}
	if !reflect.DeepEqual(pending, want) {
		t.Errorf("pending = %+v\nwant %+v", pending, want)
	}
	// An uncertified entry at or below a certified version is stale: dropped
	// without a report.
	_, pending = splitCertified([]reply{ok("a", cent("k", 3, "x", "t", true)), ok("b", cent("k", 3, "y", "u", false))}, isCert, txid)
	if len(pending) != 0 {
		t.Errorf("stale uncertified entry reported pending: %+v", pending)
	}
	// The failed reply's entries are untouched (it is ignored as a whole).
	if len(split[3].entries) != 1 {
		t.Errorf("failed reply's entries changed: %v", split[3].entries)
	}
}
