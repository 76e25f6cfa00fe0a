package store

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func testTxID(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// TestPendingListEncoding: the list of prepared txids reads back as written,
// the empty list as a list (none prepared) and a record without it as no list;
// one that is not of valid txids in ascending order is refused as corrupt.
func TestPendingListEncoding(t *testing.T) {
	for _, txids := range [][][]byte{{}, {testTxID(1)}, {testTxID(1), testTxID(2), bytes.Repeat([]byte{0xff}, MaxTxIDLen)}} {
		got, listed, err := decodePendingList(encodePendingList(txids))
		if err != nil || !listed || !slices.EqualFunc(got, txids, bytes.Equal) {
			t.Fatalf("list of %d: read back %d, listed %v, %v", len(txids), len(got), listed, err)
		}
	}
	if got, listed, err := decodePendingList(nil); err != nil || listed || got != nil {
		t.Fatalf("no list: read %d, listed %v, %v; want no list", len(got), listed, err)
	}
	for name, kvs := range map[string][]KV{
		"not ascending": encodePendingList([][]byte{testTxID(2), testTxID(1)}),
		"repeated":      encodePendingList([][]byte{testTxID(1), testTxID(1)}),
		"short txid":    encodePendingList([][]byte{make([]byte, MinTxIDLen-1)}),
		"cut short":     {{Key: pendingListKey, Value: encodePendingList([][]byte{testTxID(1)})[0].Value[:20]}},
	} {
		if _, _, err := decodePendingList(kvs); err == nil || !strings.Contains(err.Error(), "corrupt usage record") {
			t.Fatalf("%s: %v, want a corrupt usage record", name, err)
		}
	}
}

// TestPendingListMaintained: adding and removing txids keeps the list
// ascending and each txid once, and the list holds copies of the txids.
func TestPendingListMaintained(t *testing.T) {
	var l [][]byte
	id := testTxID(3)
	for _, add := range [][]byte{id, testTxID(1), testTxID(2), testTxID(1)} {
		l = listPrepared(l, add)
	}
	id[0] = 9 // the caller's txid changes: the list's copy does not
	if want := [][]byte{testTxID(1), testTxID(2), testTxID(3)}; !slices.EqualFunc(l, want, bytes.Equal) {
		t.Fatalf("list %x, want %x", l, want)
	}
	l = unlistPrepared(unlistPrepared(l, testTxID(2)), testTxID(7))
	if want := [][]byte{testTxID(1), testTxID(3)}; !slices.EqualFunc(l, want, bytes.Equal) {
		t.Fatalf("list %x, want %x", l, want)
	}
}

// TestUsageListMismatchNotTrusted: a usage record whose list is not as long
// as its pending count is read as having no list, so the listing reads the
// records instead of trusting it.
func TestUsageListMismatchNotTrusted(t *testing.T) {
	kvs := encodePendingList([][]byte{testTxID(1)})
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
