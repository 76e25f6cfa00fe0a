package quorum

import (
	"reflect"
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
