package store

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func testTxID(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// listOf builds a list of txids in the order given, unchecked.
func listOf(txids ...[]byte) pendingList {
	l := pendingList{}
	for _, id := range txids {
		l = l.appendTxID(id)
	}
	return l
}

// txidsOf reads a list back.
func txidsOf(l pendingList) [][]byte {
	out := [][]byte{}
	for off := 0; off < len(l); {
		var id []byte
		id, off = l.next(off)
		out = append(out, id)
	}
	return out
}

// TestPendingListEncoding: the list of prepared txids reads back as written,
// the empty list as a list (none prepared) and a record without it as no list;
// one that is not of valid txids in ascending order is refused as corrupt.
func TestPendingListEncoding(t *testing.T) {
	for _, txids := range [][][]byte{{}, {testTxID(1)}, {testTxID(1), testTxID(2), bytes.Repeat([]byte{0xff}, MaxTxIDLen)}} {
		l, n, listed, err := decodePendingList(encodePendingList(listOf(txids...)))
		if err != nil || !listed || n != len(txids) || !slices.EqualFunc(txidsOf(l), txids, bytes.Equal) {
			t.Fatalf("list of %d: read back %d (%d), listed %v, %v", len(txids), n, len(txidsOf(l)), listed, err)
		}
	}
	if l, n, listed, err := decodePendingList(encodePendingList(nil)); err != nil || !listed || n != 0 || l == nil {
		t.Fatalf("nil list: read %d, listed %v, %v; want an empty list", n, listed, err)
	}
	if l, n, listed, err := decodePendingList(nil); err != nil || listed || n != 0 || l != nil {
		t.Fatalf("no list: read %d, listed %v, %v; want no list", n, listed, err)
	}
	for name, kvs := range map[string][]KV{
		"not ascending": encodePendingList(listOf(testTxID(2), testTxID(1))),
		"repeated":      encodePendingList(listOf(testTxID(1), testTxID(1))),
		"short txid":    encodePendingList(listOf(make([]byte, MinTxIDLen-1))),
		"long txid":     encodePendingList(listOf(make([]byte, MaxTxIDLen+1))),
		"cut short":     encodePendingList(listOf(testTxID(1))[:20]),
		"bad length":    encodePendingList(pendingList{0xff}),
	} {
		if _, _, _, err := decodePendingList(kvs); err == nil || !strings.Contains(err.Error(), "corrupt usage record") {
			t.Fatalf("%s: %v, want a corrupt usage record", name, err)
		}
	}
}

// TestPendingListMaintained: adding and removing txids keeps the list
// ascending and each txid once, copies the txids, and never changes the list
// it starts from (which may be the backend's memory).
func TestPendingListMaintained(t *testing.T) {
	l := pendingList{}
	id := testTxID(3)
	for _, add := range [][]byte{id, testTxID(1), testTxID(2), testTxID(1)} {
		l = l.with(add)
	}
	id[0] = 9 // the caller's txid changes: the list's copy does not
	if want := [][]byte{testTxID(1), testTxID(2), testTxID(3)}; !slices.EqualFunc(txidsOf(l), want, bytes.Equal) {
		t.Fatalf("list %x, want %x", txidsOf(l), want)
	}
	before := slices.Clone(l)
	shorter := l.without(testTxID(2)).without(testTxID(7))
	if want := [][]byte{testTxID(1), testTxID(3)}; !slices.EqualFunc(txidsOf(shorter), want, bytes.Equal) {
		t.Fatalf("list %x, want %x", txidsOf(shorter), want)
	}
	if !bytes.Equal(l, before) {
		t.Fatal("without changed the list it started from")
	}
	for _, id := range [][]byte{testTxID(0), testTxID(2), testTxID(4)} {
		off, found := l.find(id)
		if wantFound := id[0] == 2; found != wantFound {
			t.Fatalf("find(%x): found %v at %d", id[0], found, off)
		}
	}
}

// TestUsageListMismatchNotTrusted: a usage record whose list is not as long
// as its pending count is read as having no list, so the listing reads the
// records instead of trusting it.
func TestUsageListMismatchNotTrusted(t *testing.T) {
	kvs := encodePendingList(listOf(testTxID(1)))
	for pending, want := range map[int64]bool{1: true, 0: false, 2: false} {
		r := usageReader{Record{TxID: usageTxID, State: TxCommitted, Seal: encodeUsage(Usage{Pending: pending}), KVs: kvs}}
		_, _, found, listed, err := readUsage(r)
		if err != nil || !found || listed != want {
			t.Fatalf("pending %d with a list of one: found %v listed %v, %v; want listed %v", pending, found, listed, err, want)
		}
	}
}

// usageReader holds only a usage record.
type usageReader struct{ rec Record }

func (r usageReader) Get(string) (KV, bool, error)                   { return KV{}, false, nil }
func (r usageReader) Scan(string) ([]KV, error)                      { return nil, nil }
func (r usageReader) Reservation(string) ([]byte, bool, error)       { return nil, false, nil }
func (r usageReader) Records() ([]Record, error)                     { return []Record{r.rec}, nil }
func (r usageReader) ScanRange(string, *string, Bound) ([]KV, error) { return nil, nil }
func (r usageReader) RecordsRange([]byte, Bound) ([]Record, error)   { return nil, nil }
func (r usageReader) Record(txid []byte) (Record, bool, error) {
	return r.rec, bytes.Equal(txid, r.rec.TxID), nil
}
