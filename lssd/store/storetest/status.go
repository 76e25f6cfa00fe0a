package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// sameRecord compares two records field by field.
func sameRecord(a, b store.Record) bool {
	return bytes.Equal(a.TxID, b.TxID) && a.State == b.State && sameKVs(a.KVs, b.KVs) &&
		a.Updated.Equal(b.Updated) && a.Quorum.W == b.Quorum.W &&
		slices.EqualFunc(a.Quorum.Participants, b.Quorum.Participants, bytes.Equal) && bytes.Equal(a.Seal, b.Seal)
}

// wantRecords requires got to be exactly want, in order.
func wantRecords(t *testing.T, what string, got, want []store.Record) {
	t.Helper()
	if !slices.EqualFunc(got, want, sameRecord) {
		ids := func(recs []store.Record) (s []string) {
			for _, r := range recs {
				s = append(s, fmt.Sprintf("%s:%v", short(r.TxID), r.State))
			}
			return s
		}
		t.Fatalf("%s:\n got  %v\n want %v", what, ids(got), ids(want))
	}
}

// testTransactionsOf: TransactionsOf returns the client's records of the txids
// asked (whatever their order, a repeat counting once), in txid order, as
// Transactions has them; unknown txids and other clients' records are left
// out; a malformed txid is ErrInvalid; a read past its byte limit is a
// TooLargeError.
func testTransactionsOf(t *testing.T, f Factory) {
	e := newEnv(t, f)
	committed, aborted, p1, p2, unknown := newTxID(t), newTxID(t), newTxID(t), newTxID(t), newTxID(t)
	e.prepareSealed(committed, kv("c", 0, "committed"))
	if err := e.commit(ctx(t), committed); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Fence(ctx(t), e.client, aborted); err != nil {
		t.Fatal(err)
	}
	e.prepareSealed(p1, kv("p/1", 0, "one"), kv("p/2", 0, "two"))
	e.prepareSealed(p2, kv("p/3", 0, "three"))
	e.prepareSealed(newTxID(t), kv("p/4", 0, "not asked for"))
	other := newTxID(t)
	if _, err := e.s.Fence(ctx(t), newClient(t), other); err != nil {
		t.Fatal(err)
	}
	all, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}
	asked := map[string]bool{string(committed): true, string(aborted): true, string(p1): true, string(p2): true}
	want := slices.DeleteFunc(slices.Clone(all), func(r store.Record) bool { return !asked[string(r.TxID)] })
	if len(want) != 4 {
		t.Fatalf("Transactions holds %d of the 4 txids", len(want))
	}
	got, err := e.s.TransactionsOf(ctx(t), e.client, [][]byte{p2, unknown, committed, other, aborted, p1, committed}, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantRecords(t, "TransactionsOf", got, want)

	if got, err := e.s.TransactionsOf(ctx(t), e.client, [][]byte{unknown, other}, 0); err != nil || len(got) != 0 {
		t.Fatalf("TransactionsOf(unknown, another client's) = %d records, %v; want none", len(got), err)
	}
	if got, err := e.s.TransactionsOf(ctx(t), e.client, nil, 0); err != nil || len(got) != 0 {
		t.Fatalf("TransactionsOf(none) = %d records, %v; want none", len(got), err)
	}
	for _, bad := range [][]byte{nil, make([]byte, store.MinTxIDLen-1), make([]byte, store.MaxTxIDLen+1)} {
		if _, err := e.s.TransactionsOf(ctx(t), e.client, [][]byte{p1, bad}, 0); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("TransactionsOf with a txid of %d bytes: %v, want ErrInvalid", len(bad), err)
		}
	}

	total := 0
	for _, r := range want {
		total += r.Size()
	}
	if got, err := e.s.TransactionsOf(ctx(t), e.client, [][]byte{p1, p2, committed, aborted}, total); err != nil {
		t.Fatalf("TransactionsOf at its size: %v", err)
	} else {
		wantRecords(t, "TransactionsOf at its size", got, want)
	}
	var tooLarge *store.TooLargeError
	if _, err := e.s.TransactionsOf(ctx(t), e.client, [][]byte{p1, p2, committed, aborted}, total-1); !errors.As(err, &tooLarge) ||
		tooLarge.Limit != total-1 || tooLarge.What != "transaction records" {
		t.Fatalf("TransactionsOf one byte below its size: %v, want a TooLargeError of transaction records", err)
	}
}

// txidAt returns a txid that sorts by pos, then tag, then random bytes.
func txidAt(t *testing.T, pos uint32, tag byte) []byte {
	t.Helper()
	id := make([]byte, 32)
	binary.BigEndian.PutUint32(id, pos)
	id[4] = tag
	if _, err := rand.Read(id[5:]); err != nil {
		t.Fatal(err)
	}
	return id
}

// testPendingPages: following PendingTransactionsPage from the first page to
// the one that says no more gives exactly the prepared records, though
// hundreds of decided records come before, between and after them; every page
// holds at least one record (more says exactly whether a prepared one
// follows), and no page more than it may, and pages are full.
func testPendingPages(t *testing.T, f Factory) {
	e := newEnv(t, f)
	const decided = 620
	pending := map[uint32]bool{450: true, 451: true, 600: true}
	committedAt := map[uint32]bool{10: true, 452: true}
	for pos := range uint32(decided) {
		id := txidAt(t, pos, 0)
		switch {
		case committedAt[pos]:
			e.prepareSealed(id, kv(fmt.Sprintf("c/%d", pos), 0, "v"))
			if err := e.commit(ctx(t), id); err != nil {
				t.Fatal(err)
			}
		default:
			if _, err := e.s.Fence(ctx(t), e.client, id); err != nil {
				t.Fatal(err)
			}
		}
		if pending[pos] {
			e.prepareSealed(txidAt(t, pos, 1), kv(fmt.Sprintf("p/%d", pos), 0, "pending"))
		}
	}
	all, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.DeleteFunc(all, func(r store.Record) bool { return r.State != store.TxPrepared })
	if len(want) != len(pending) {
		t.Fatalf("%d prepared records, want %d", len(want), len(pending))
	}
	for _, p := range []struct{ items, bytes int }{{1, 0}, {2, 0}, {1000, 0}, {2, 100}, {1, 1}} {
		var got []store.Record
		var after []byte
		for page := 0; ; page++ {
			recs, more, err := e.s.PendingTransactionsPage(ctx(t), e.client, after, p.items, p.bytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) > p.items || len(recs) == 0 || page > len(want) {
				t.Fatalf("PendingTransactionsPage(%+v) page %d: %d records, more %v", p, page, len(recs), more)
			}
			got = append(got, recs...)
			if !more {
				if p.bytes == 0 && page+1 != (len(want)+p.items-1)/p.items {
					t.Fatalf("PendingTransactionsPage(%+v): %d pages for %d records: not full", p, page+1, len(want))
				}
				break
			}
			after = recs[len(recs)-1].TxID
		}
		wantRecords(t, fmt.Sprintf("PendingTransactionsPage(%+v) followed", p), got, want)
	}

	// Only decided records: one empty page that says no more.
	d := newEnv(t, f)
	for range 40 {
		if _, err := d.s.Fence(ctx(t), d.client, newTxID(t)); err != nil {
			t.Fatal(err)
		}
	}
	if recs, more, err := d.s.PendingTransactionsPage(ctx(t), d.client, nil, 1, 0); err != nil || len(recs) != 0 || more {
		t.Fatalf("PendingTransactionsPage with nothing prepared = %d records, more %v, %v; want none, no more", len(recs), more, err)
	}
	if _, _, err := d.s.PendingTransactionsPage(ctx(t), d.client, nil, 0, 0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("PendingTransactionsPage of 0 items: %v, want ErrInvalid", err)
	}
}
