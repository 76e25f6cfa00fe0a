package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// rangeKeys are 150 keys under "k/" (more than two of a backend's batches), with
// values of growing size, and keys around them that a range must leave out or
// take in: the empty key, "j", "k" itself and "kz".
func rangeKeys() []store.KV {
	kvs := []store.KV{kv("", 0, "empty key"), kv("j", 0, "j"), kv("k", 0, "k")}
	for i := range 150 {
		kvs = append(kvs, kv(fmt.Sprintf("k/%03d", i), 0, string(bytes.Repeat([]byte{'v'}, i%17))))
	}
	return append(kvs, kv("kz", 0, "kz"))
}

// fillRanges writes rangeKeys (in puts of 50, under every backend's
// per-transaction limit) and a prepared transaction reserving a new key, which
// holds no value and must not show in a range.
func (e *env) fillRanges() []store.KV {
	e.t.Helper()
	kvs := rangeKeys()
	for i := 0; i < len(kvs); i += 50 {
		e.put(kvs[i:min(i+50, len(kvs))]...)
	}
	e.prepare(newTxID(e.t), kv("k/050x", 0, "prepared"))
	return kvs
}

// wantRange is the reference of ScanRange and RecordsRange: all (in order) after
// the start, cut by b as Bound documents.
func wantRange[T any](all []T, after func(T) bool, size func(T) int, b store.Bound) []T {
	var out []T
	g := b.Budget()
	for _, e := range all {
		if !after(e) {
			continue
		}
		out = append(out, e)
		if !g.Take(size(e)) {
			break
		}
	}
	return out
}

var rangeBounds = []store.Bound{{}, {Items: 1}, {Items: 5}, {Items: 70}, {Items: 200}, {Bytes: 1}, {Bytes: 500},
	{Items: 3, Bytes: 100}, {Items: 100, Bytes: 2000}}

// testScanRange: ScanRange returns exactly the keys under the prefix after the
// start, in order, cut at the bound (the entry that passes the byte bound
// included), for starts before, inside and after the prefix, and starting after
// the empty key is not starting from the first.
func testScanRange(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.fillRanges()
	for _, prefix := range []string{"", "k", "k/", "k/1", "z"} {
		all := e.get(prefix)
		for _, after := range []*string{nil, ptr(""), ptr("j"), ptr("k"), ptr("k/000"), ptr("k/05"), ptr("k/063"),
			ptr("k/064"), ptr("k/149"), ptr("kz"), ptr("zz")} {
			for _, b := range rangeBounds {
				var got []store.KV
				err := e.b.View(ctx(t), e.client, func(r store.Reader) (err error) {
					got, err = r.ScanRange(prefix, after, b)
					return err
				})
				if err != nil {
					t.Fatalf("ScanRange(%q, %s, %+v): %v", prefix, show(after), b, err)
				}
				want := wantRange(all, func(kv store.KV) bool { return after == nil || kv.Key > *after }, store.KV.Size, b)
				wantKVs(t, fmt.Sprintf("ScanRange(%q, %s, %+v)", prefix, show(after), b), got, want)
			}
		}
	}
}

// testRecordsRange: RecordsRange returns the records after the start in txid
// order, cut at the bound, from a namespace that also holds the quota's usage
// record.
func testRecordsRange(t *testing.T, f Factory) {
	e := quotaEnv(t, f, store.Quota{MaxKeys: 1000})
	e.fillRanges()
	for i := range 7 {
		txid := newTxID(t)
		e.prepareSealed(txid, kv(fmt.Sprintf("r/%d", i), 0, "r"))
		if i%2 == 0 {
			if err := e.commit(ctx(t), txid); err != nil {
				t.Fatal(err)
			}
		}
	}
	var all []store.Record
	if err := e.b.View(ctx(t), e.client, func(r store.Reader) (err error) {
		all, err = r.Records()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	afters := [][]byte{nil, {0}, bytes.Repeat([]byte{0xff}, 64)}
	for _, rec := range all {
		afters = append(afters, rec.TxID, rec.TxID[:len(rec.TxID)-1])
	}
	for _, after := range afters {
		for _, b := range rangeBounds {
			var got []store.Record
			err := e.b.View(ctx(t), e.client, func(r store.Reader) (err error) {
				got, err = r.RecordsRange(after, b)
				return err
			})
			if err != nil {
				t.Fatalf("RecordsRange(%x, %+v): %v", after, b, err)
			}
			want := wantRange(all, func(r store.Record) bool { return len(after) == 0 || bytes.Compare(r.TxID, after) > 0 },
				store.Record.Size, b)
			if !slices.EqualFunc(got, want, func(a, b store.Record) bool { return bytes.Equal(a.TxID, b.TxID) && a.State == b.State }) {
				t.Fatalf("RecordsRange(%x, %+v) = %d records, want %d", after, b, len(got), len(want))
			}
		}
	}
}

// testPages: following GetPage and TransactionsPage from the first page to the
// one that says no more gives exactly Get and Transactions, for several page
// sizes and byte limits, with hidden keys left out; every page but the last says
// more. GetCapped and TransactionsCapped answer whole up to their limit and
// refuse with a TooLargeError one byte below it.
func testPages(t *testing.T, f Factory) {
	e := quotaEnv(t, f, store.Quota{MaxKeys: 1000})
	e.fillRanges()
	for i := range 9 {
		e.prepareSealed(newTxID(t), kv(fmt.Sprintf("r/%d", i), 0, "r"))
	}
	hide := func(k string) bool { return k == "k/100" }
	for _, prefix := range []string{"", "k/"} {
		all := slices.DeleteFunc(e.get(prefix), func(kv store.KV) bool { return hide(kv.Key) })
		for _, p := range []struct{ items, bytes int }{{1, 0}, {7, 0}, {64, 0}, {1000, 0}, {1000, 300}, {5, 1}} {
			var got []store.KV
			var after *string
			for page := 0; ; page++ {
				kvs, more, _, err := e.s.GetPage(ctx(t), e.client, prefix, after, p.items, p.bytes, hide)
				if err != nil {
					t.Fatal(err)
				}
				if len(kvs) > p.items || len(kvs) == 0 && more {
					t.Fatalf("GetPage(%q, %+v) page %d: %d keys, more %v", prefix, p, page, len(kvs), more)
				}
				got = append(got, kvs...)
				if !more {
					break
				}
				if page > len(all) {
					t.Fatalf("GetPage(%q, %+v): more than %d pages", prefix, p, len(all))
				}
				after = &kvs[len(kvs)-1].Key
			}
			wantKVs(t, fmt.Sprintf("GetPage(%q, %+v) followed", prefix, p), got, all)
		}
		total := 0
		for _, kv := range all {
			total += kv.Size()
		}
		got, err := e.s.GetCapped(ctx(t), e.client, prefix, total, hide)
		if err != nil {
			t.Fatalf("GetCapped(%q) at its size: %v", prefix, err)
		}
		wantKVs(t, "GetCapped", got, all)
		var tooLarge *store.TooLargeError
		if _, err := e.s.GetCapped(ctx(t), e.client, prefix, total-1, hide); !errors.As(err, &tooLarge) {
			t.Fatalf("GetCapped(%q) one byte below its size: %v, want TooLargeError", prefix, err)
		}
		// A small cap stops the read at the key that passes it: a refused read
		// never holds the listing.
		if _, err := e.s.GetCapped(ctx(t), e.client, prefix, 100, hide); !errors.As(err, &tooLarge) ||
			tooLarge.Entries > 6 || tooLarge.Bytes-all[tooLarge.Entries-1].Size() > 100 {
			t.Fatalf("GetCapped(%q, 100 bytes): %v, want a TooLargeError after the key that passes 100 bytes", prefix, err)
		}
	}

	all, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ items, bytes int }{{1, 0}, {4, 0}, {1000, 0}, {1000, 100}} {
		var got []store.Record
		var after []byte
		for page := 0; ; page++ {
			recs, more, err := e.s.TransactionsPage(ctx(t), e.client, after, p.items, p.bytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) > p.items || len(recs) == 0 && more || page > len(all) {
				t.Fatalf("TransactionsPage(%+v) page %d: %d records, more %v", p, page, len(recs), more)
			}
			got = append(got, recs...)
			if !more {
				break
			}
			after = recs[len(recs)-1].TxID
		}
		if !slices.EqualFunc(got, all, func(a, b store.Record) bool { return bytes.Equal(a.TxID, b.TxID) }) {
			t.Fatalf("TransactionsPage(%+v) followed: %d records, want %d", p, len(got), len(all))
		}
	}
	total := 0
	for _, r := range all {
		total += r.Size()
	}
	if got, err := e.s.TransactionsCapped(ctx(t), e.client, total); err != nil || len(got) != len(all) {
		t.Fatalf("TransactionsCapped at its size: %d records, %v; want %d", len(got), err, len(all))
	}
	var tooLarge *store.TooLargeError
	if _, err := e.s.TransactionsCapped(ctx(t), e.client, total-1); !errors.As(err, &tooLarge) {
		t.Fatalf("TransactionsCapped one byte below its size: %v, want TooLargeError", err)
	}
	if _, _, _, err := e.s.GetPage(ctx(t), e.client, "", nil, 0, 0, nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("GetPage of 0 items: %v, want ErrInvalid", err)
	}
}

func ptr(s string) *string { return &s }

func show(s *string) string {
	if s == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", *s)
}
