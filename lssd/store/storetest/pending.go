package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

// CountingBackend counts the record reads of the Views made through it: what
// a listing read. Updates (and lazy updates, where the backend has them) pass
// through unchanged.
type CountingBackend struct {
	store.Backend
	// Ranges, Records and Points count RecordsRange, Records and Record calls.
	Ranges, Records, Points atomic.Int64
}

// View implements store.Backend, counting through the Reader it hands fn.
func (b *CountingBackend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	return b.Backend.View(ctx, client, func(r store.Reader) error { return fn(countingReader{r, b}) })
}

// UpdateLazy keeps the backend's lazy commits (store.LazyUpdater) behind the
// wrapper, so that Commit goes the way it goes without it.
func (b *CountingBackend) UpdateLazy(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	if l, ok := b.Backend.(store.LazyUpdater); ok {
		return l.UpdateLazy(ctx, client, fn)
	}
	return b.Backend.Update(ctx, client, fn)
}

// Reset sets every count back to zero.
func (b *CountingBackend) Reset() { b.Ranges.Store(0); b.Records.Store(0); b.Points.Store(0) }

type countingReader struct {
	store.Reader
	b *CountingBackend
}

func (r countingReader) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	r.b.Ranges.Add(1)
	return r.Reader.RecordsRange(after, b)
}

func (r countingReader) Records() ([]store.Record, error) {
	r.b.Records.Add(1)
	return r.Reader.Records()
}

func (r countingReader) Record(txid []byte) (store.Record, bool, error) {
	r.b.Points.Add(1)
	return r.Reader.Record(txid)
}

// countingEnv is an env whose store reads through a CountingBackend.
func countingEnv(t *testing.T, f Factory) (*env, *CountingBackend) {
	t.Helper()
	e := newEnv(t, f)
	c := &CountingBackend{Backend: e.b}
	e.s = e.store(c)
	return e, c
}

// pendingListing follows PendingTransactionsPage, items at a time, from the
// first page to the one that says no more, and returns the records and the
// number of pages read.
func (e *env) pendingListing(items int) ([]store.Record, int) {
	e.t.Helper()
	var got []store.Record
	var after []byte
	for page := 1; ; page++ {
		recs, more, err := e.s.PendingTransactionsPage(ctx(e.t), e.client, after, items, 0)
		if err != nil {
			e.t.Fatalf("PendingTransactionsPage: %v", err)
		}
		if len(recs) > items || more && len(recs) == 0 || page > 1000 {
			e.t.Fatalf("PendingTransactionsPage page %d: %d records, more %v", page, len(recs), more)
		}
		got = append(got, recs...)
		if !more {
			return got, page
		}
		after = recs[len(recs)-1].TxID
	}
}

// wantPendingListed requires the pending listing, followed in pages of two and
// read as one page, to be exactly the prepared records Transactions holds, and,
// when direct, to have been read by point reads of the usage record and the
// prepared records only: no ranged read, none of the decided records.
func (e *env) wantPendingListed(c *CountingBackend, step string, direct bool) {
	e.t.Helper()
	all, err := e.s.Transactions(ctx(e.t), e.client)
	if err != nil {
		e.t.Fatal(err)
	}
	want := slices.DeleteFunc(all, func(r store.Record) bool { return r.State != store.TxPrepared })
	for _, items := range []int{2, 1000} {
		c.Reset()
		got, pages := e.pendingListing(items)
		wantRecords(e.t, fmt.Sprintf("%s: pending listing in pages of %d", step, items), got, want)
		if pages != max(1, (len(want)+items-1)/items) {
			e.t.Fatalf("%s: %d pages of %d for %d prepared records: not full", step, pages, items, len(want))
		}
		if !direct {
			continue
		}
		// Per page: the usage record, the page's records and the one after.
		if r, a, p := c.Ranges.Load(), c.Records.Load(), c.Points.Load(); r != 0 || a != 0 || p > int64(pages*(items+2)) {
			e.t.Fatalf("%s: listing %d prepared records in %d pages of %d made %d ranged reads, %d whole reads, %d point reads; "+
				"want no ranged or whole read and at most %d point reads", step, len(want), pages, items, r, a, p, pages*(items+2))
		}
	}
}

// testPendingListKept: the pending listing reads only the prepared records
// (through the list the usage record keeps), and stays exactly the prepared
// records through prepare, a repeated prepare, a refused prepare, commit,
// abort, fence, Restore settling a prepared transaction, a put and prune, with
// hundreds of decided records kept beside them. A client that has only fenced
// has no usage record until a prune or write stores one.
func testPendingListKept(t *testing.T, f Factory) {
	e, c := countingEnv(t, f)
	for range 300 {
		if _, err := e.s.Fence(ctx(t), e.client, newTxID(t)); err != nil {
			t.Fatal(err)
		}
	}
	// Fence keeps no usage: the listing reads on past the fenced records until
	// a prune (which reads them anyway) or a write stores the list.
	e.wantPendingListed(c, "only fenced", false)
	if n, err := e.s.Prune(ctx(t), e.client); err != nil || n != 0 {
		t.Fatalf("Prune = %d, %v; want none expired", n, err)
	}
	e.wantPendingListed(c, "only fenced, then a prune", true)
	p1, p2, p3, p4, p5 := txidAt(t, 1, 0), txidAt(t, 2, 0), txidAt(t, 3, 0), txidAt(t, 4, 0), txidAt(t, 5, 0)
	e.prepareSealed(p3, kv("k/3", 0, "three"))
	e.prepareSealed(p1, kv("k/1", 0, "one"), kv("k/1b", 0, "one b"))
	e.prepareSealed(p2, kv("k/2", 0, "two"))
	e.wantPendingListed(c, "three prepared", true)
	e.prepareSealed(p2, kv("k/2", 0, "two"))
	if _, conflicts, err := e.s.Prepare(ctx(t), e.client, newTxID(t), []store.KV{kv("k/2", 0, "reserved")}); err != nil || len(conflicts) != 1 {
		t.Fatalf("Prepare of a reserved key = %d conflicts, %v; want one", len(conflicts), err)
	}
	e.wantPendingListed(c, "prepared again, and a prepare refused", true)

	if err := e.commit(ctx(t), p1); err != nil {
		t.Fatal(err)
	}
	e.wantPendingListed(c, "p1 committed", true)
	if err := e.s.Abort(ctx(t), e.client, p2); err != nil {
		t.Fatal(err)
	}
	e.wantPendingListed(c, "p2 aborted", true)
	if state, err := e.s.Fence(ctx(t), e.client, p3); err != nil || state != store.TxPrepared {
		t.Fatalf("Fence of a prepared txid = %v, %v", state, err)
	}
	if err := e.s.Abort(ctx(t), e.client, txidAt(t, 0, 0)); err != nil {
		t.Fatal(err)
	}
	e.wantPendingListed(c, "a prepared and an unknown txid fenced", true)

	e.prepareSealed(p4, kv("k/4", 0, "four"))
	e.prepareSealed(p5, kv("k/5", 0, "five"))
	e.restore([]store.KV{{Key: "k/4", Version: 0, Value: []byte("four"), TxID: p4, Proof: proof(p4, "k/4")}}, "k/4")
	e.wantRecord(p4, store.TxCommitted)
	e.wantPendingListed(c, "p4 settled by Restore", true)
	e.put(kv("plain", 0, "v"))
	e.wantPendingListed(c, "a put", true)

	e.clock.Advance(retention + time.Millisecond)
	if n, err := e.s.Prune(ctx(t), e.client); err != nil || n < 300 {
		t.Fatalf("Prune = %d, %v; want every decided record", n, err)
	}
	e.wantPendingListed(c, "pruned", true)
	for _, p := range [][]byte{p3, p5} {
		if err := e.commit(ctx(t), p); err != nil {
			t.Fatal(err)
		}
	}
	e.wantPendingListed(c, "none left prepared", true)
	e.wantUsage("none left prepared", store.Usage{Keys: 6, Bytes: int64(len("k/1one") + len("k/1bone b") + len("k/3three") + len("k/4four") + len("k/5five") + len("plainv"))})
}

// usageTxID is the store's record of a client's usage (store.IsUsageTxID).
var usageTxID = []byte("\x00lss-usage")

// writeOldUsage replaces the client's usage record, through the backend, with
// one as the store wrote it before it listed the prepared txids: the usage
// alone, three big-endian counts in the seal.
func (e *env) writeOldUsage(u store.Usage) {
	e.t.Helper()
	if !store.IsUsageTxID(usageTxID) {
		e.t.Fatalf("%q is no longer the store's usage record: update this test", usageTxID)
	}
	seal := make([]byte, 0, 24)
	for _, n := range []int64{u.Keys, u.Bytes, u.Pending} {
		seal = binary.BigEndian.AppendUint64(seal, uint64(n))
	}
	err := e.b.Update(ctx(e.t), e.client, func(tx store.Txn) error {
		return tx.SetRecord(store.Record{TxID: usageTxID, State: store.TxCommitted, Updated: time.Unix(0, 0), Seal: seal})
	})
	if err != nil {
		e.t.Fatalf("writing a usage record without the list: %v", err)
	}
}

// testPendingListFromOldUsage: a client whose usage record was written before
// it listed the prepared txids is listed right (reading its records), keeps
// its usage, and has the list built by its next prune or write that saves the
// usage, whichever it is (a put, a prepare, a commit, an abort, a restore),
// after which the listing reads the prepared records only.
func testPendingListFromOldUsage(t *testing.T, f Factory) {
	e, c := countingEnv(t, f)
	for range 100 {
		if _, err := e.s.Fence(ctx(t), e.client, newTxID(t)); err != nil {
			t.Fatal(err)
		}
	}
	p1, p2, p3, p4 := newTxID(t), newTxID(t), newTxID(t), newTxID(t)
	e.put(kv("a", 0, "12345"))
	e.prepareSealed(p1, kv("a", 1, "123"), kv("b", 0, "1"))
	e.prepareSealed(p2, kv("c", 0, "12"))
	u := store.Usage{Keys: 3, Bytes: 6 + 4 + 2 + 3, Pending: 2}
	e.wantUsage("before", u)

	for _, w := range []struct {
		name  string
		write func()
		usage store.Usage
	}{
		{"a prune", func() {
			if n, err := e.s.Prune(ctx(t), e.client); err != nil || n != 0 {
				t.Fatalf("Prune = %d, %v; want none expired", n, err)
			}
		}, u},
		{"a put", func() { e.put(kv("d", 0, "")) }, store.Usage{Keys: 4, Bytes: 16, Pending: 2}},
		{"a prepare", func() { e.prepareSealed(p3, kv("e", 0, "")) }, store.Usage{Keys: 5, Bytes: 17, Pending: 3}},
		{"a commit", func() {
			if err := e.commit(ctx(t), p1); err != nil {
				t.Fatal(err)
			}
		}, store.Usage{Keys: 5, Bytes: 11, Pending: 2}},
		{"an abort", func() {
			if err := e.s.Abort(ctx(t), e.client, p2); err != nil {
				t.Fatal(err)
			}
		}, store.Usage{Keys: 4, Bytes: 8, Pending: 1}},
		{"a restore settling", func() {
			e.prepareSealed(p4, kv("f", 0, "x")) // stores the list: take it away again
			e.writeOldUsage(store.Usage{Keys: 5, Bytes: 10, Pending: 2})
			e.restore([]store.KV{{Key: "f", Version: 0, Value: []byte("x"), TxID: p4, Proof: proof(p4, "f")}}, "f")
		}, store.Usage{Keys: 5, Bytes: 10, Pending: 1}},
	} {
		before, err := e.s.Usage(ctx(t), e.client)
		if err != nil {
			t.Fatal(err)
		}
		e.writeOldUsage(before)
		e.wantUsage("record without the list, before "+w.name, before)
		e.wantPendingListed(c, "record without the list, before "+w.name, false)
		w.write()
		e.wantUsage("after "+w.name, w.usage)
		e.wantPendingListed(c, "list built by "+w.name, true)
		e.wantOldUsageLayout("after "+w.name, w.usage)
	}
}

// wantOldUsageLayout requires the client's usage record to hold u in the
// layout releases from before the list read (which refuse any other as
// corrupt): three big-endian counts, 24 bytes, in the seal.
func (e *env) wantOldUsageLayout(what string, u store.Usage) {
	e.t.Helper()
	var seal []byte
	err := e.b.View(ctx(e.t), e.client, func(r store.Reader) error {
		rec, ok, err := r.Record(usageTxID)
		if err == nil && !ok {
			err = fmt.Errorf("no usage record")
		}
		seal = rec.Seal
		return err
	})
	if err != nil {
		e.t.Fatalf("%s: reading the usage record: %v", what, err)
	}
	want := make([]byte, 0, 24)
	for _, n := range []int64{u.Keys, u.Bytes, u.Pending} {
		want = binary.BigEndian.AppendUint64(want, uint64(n))
	}
	if !bytes.Equal(seal, want) {
		e.t.Fatalf("%s: usage record seal %x, want %x (the layout older releases read)", what, seal, want)
	}
}
