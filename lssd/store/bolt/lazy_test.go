package bolt

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

var lazyTxID = bytes.Repeat([]byte{9}, 32)

// prepared writes k at version 0 and a prepared transaction lazyTxID holding k
// for version 1, durably.
func prepared(t *testing.T, b *Backend) {
	t.Helper()
	err := b.Update(context.Background(), client, func(tx store.Txn) error {
		if err := tx.Set(store.KV{Key: "k", Value: []byte("old")}); err != nil {
			return err
		}
		if err := tx.Reserve("k", lazyTxID); err != nil {
			return err
		}
		return tx.SetRecord(store.Record{TxID: lazyTxID, State: store.TxPrepared,
			KVs: []store.KV{{Key: "k", Version: 1, Value: []byte("new")}}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// commitLazily is what Store.Commit writes, as a lazy update.
func commitLazily(b *Backend) error {
	return b.UpdateLazy(context.Background(), client, func(tx store.Txn) error {
		if err := tx.Set(store.KV{Key: "k", Version: 1, Value: []byte("new"), TxID: lazyTxID, Proof: []byte("p")}); err != nil {
			return err
		}
		if err := tx.Release("k"); err != nil {
			return err
		}
		return tx.SetRecord(store.Record{TxID: lazyTxID, State: store.TxCommitted})
	})
}

// stateOfK reads from r k, whether it is reserved, and lazyTxID's state.
func stateOfK(r store.Reader) (kv store.KV, reserved bool, state store.TxState, err error) {
	if kv, _, err = r.Get("k"); err != nil {
		return
	}
	if _, reserved, err = r.Reservation("k"); err != nil {
		return
	}
	rec, _, err := r.Record(lazyTxID)
	return kv, reserved, rec.State, err
}

// readAll reads through View what a client sees of k and of lazyTxID.
func readAll(t *testing.T, b *Backend) (kv store.KV, reserved bool, state store.TxState, scanned, records int) {
	t.Helper()
	err := b.View(context.Background(), client, func(r store.Reader) error {
		var err error
		if kv, reserved, state, err = stateOfK(r); err != nil {
			return err
		}
		kvs, err := r.Scan("")
		if err != nil {
			return err
		}
		recs, err := r.Records()
		scanned, records = len(kvs), len(recs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return kv, reserved, state, scanned, records
}

// TestLazyReturnsBeforeTheCommit holds a lazy update's bolt commit back: the
// update returns anyway, and every read sees its writes (through the overlay)
// before the file holds them, and the same after.
func TestLazyReturnsBeforeTheCommit(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	prepared(t, b)
	gate := make(chan struct{})
	b.beforeCommit = func() error { <-gate; return nil }
	b.hold = time.Millisecond
	commits := b.commits.Load()

	done := make(chan error, 1)
	go func() { done <- commitLazily(b) }()
	if err := wait(t, "UpdateLazy with its bolt commit held back", done); err != nil {
		t.Fatal(err)
	}
	if got := b.commits.Load(); got != commits {
		t.Fatalf("%d bolt commits since the lazy update, want none yet", got-commits)
	}
	check := func(when string) {
		kv, reserved, state, scanned, records := readAll(t, b)
		if kv.Version != 1 || string(kv.Value) != "new" || reserved || state != store.TxCommitted || scanned != 1 || records != 1 {
			t.Fatalf("%s: read k@%d %q reserved=%v, record %v, %d keys, %d records; want the committed write",
				when, kv.Version, kv.Value, reserved, state, scanned, records)
		}
	}
	check("before the bolt commit")
	// An Update after the lazy one sees its writes too: it joins the held batch
	// or waits for it.
	after := update(context.Background(), b, func(tx store.Txn) error {
		if _, reserved, err := tx.Reservation("k"); err != nil || reserved {
			return errors.New("k still reserved after the lazy commit")
		}
		return tx.Set(store.KV{Key: "k", Version: 2, Value: []byte("newer")})
	})
	close(gate)
	if err := wait(t, "Update after the lazy one", after); err != nil {
		t.Fatal(err)
	}
	if kv, _, _, _, _ := readAll(t, b); kv.Version != 2 {
		t.Fatalf("after the next Update: k@%d, want 2", kv.Version)
	}
	b.overlay.mu.Lock()
	left := len(b.overlay.byClient)
	b.overlay.mu.Unlock()
	if left != 0 {
		t.Fatalf("overlay still holds %d clients' writes after their batch committed", left)
	}
}

// TestLazyHeldForTheNextWrite checks that a batch of lazy updates only waits
// for company, so that the next Update's fsync covers it: one bolt commit for
// both.
func TestLazyHeldForTheNextWrite(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	prepared(t, b)
	b.hold = time.Minute
	commits := b.commits.Load()
	if err := commitLazily(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(context.Background(), client, set("next", "n")); err != nil {
		t.Fatal(err)
	}
	if got := b.commits.Load() - commits; got != 1 {
		t.Fatalf("%d bolt commits for a lazy update and the Update after it, want 1", got)
	}
}

// TestLazyDurableAtClose checks that Close ends a held batch at once and that
// the lazy writes are in the file after it.
func TestLazyDurableAtClose(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	b := mustOpen(t, path, Options{})
	prepared(t, b)
	b.hold = time.Minute
	if err := commitLazily(b); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Close took %v with a batch held open", took)
	}
	b = mustOpen(t, path, Options{})
	if kv, reserved, state, _, _ := readAll(t, b); kv.Version != 1 || reserved || state != store.TxCommitted {
		t.Fatalf("reopened: k@%d reserved=%v record %v, want the lazy commit", kv.Version, reserved, state)
	}
}

// TestLazyRefusesWhatTheOverlayCannotOrder checks that Reserve and DeleteRecord
// fail in a lazy update, leaving nothing behind.
func TestLazyRefusesWhatTheOverlayCannotOrder(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	prepared(t, b)
	for name, fn := range map[string]func(store.Txn) error{
		"Reserve":      func(tx store.Txn) error { return tx.Reserve("j", lazyTxID) },
		"DeleteRecord": func(tx store.Txn) error { return tx.DeleteRecord(lazyTxID) },
	} {
		if err := b.UpdateLazy(context.Background(), client, fn); !errors.Is(err, errLazyWrite) {
			t.Fatalf("%s in a lazy update: %v, want errLazyWrite", name, err)
		}
	}
	if kv, reserved, state, _, records := readAll(t, b); kv.Version != 0 || !reserved || state != store.TxPrepared || records != 1 {
		t.Fatalf("after refused lazy writes: k@%d reserved=%v record %v (%d records), want the prepared state",
			kv.Version, reserved, state, records)
	}
}

// TestLazyPanicLeavesNothing checks that a lazy update whose function panics
// (led in the background, where no caller could recover it) fails with
// errLeaderPanicked and leaves the backend usable.
func TestLazyPanicLeavesNothing(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	err := b.UpdateLazy(context.Background(), client, func(tx store.Txn) error {
		if err := tx.Set(store.KV{Key: "half", Value: []byte("h")}); err != nil {
			return err
		}
		panic("boom")
	})
	if !errors.Is(err, errLeaderPanicked) {
		t.Fatalf("lazy update that panicked: %v, want errLeaderPanicked", err)
	}
	if got := keys(t, b); len(got) != 0 {
		t.Fatalf("stored %v after the panic, want nothing", got)
	}
	if err := b.Update(context.Background(), client, set("after", "a")); err != nil {
		t.Fatalf("Update after the panic: %v", err)
	}
}

// fileReader is a fixed snapshot of the file, under the overlay.
type fileReader struct {
	data map[string]store.KV
	res  map[string][]byte
	recs []store.Record
}

func (f fileReader) Get(k string) (store.KV, bool, error) { kv, ok := f.data[k]; return kv, ok, nil }
func (f fileReader) Scan(string) ([]store.KV, error) {
	var out []store.KV
	for _, kv := range f.data {
		out = append(out, kv)
	}
	slices.SortFunc(out, func(a, b store.KV) int { return bytes.Compare([]byte(a.Key), []byte(b.Key)) })
	return out, nil
}
func (f fileReader) Reservation(k string) ([]byte, bool, error) { v, ok := f.res[k]; return v, ok, nil }
func (f fileReader) Record(txid []byte) (store.Record, bool, error) {
	for _, r := range f.recs {
		if bytes.Equal(r.TxID, txid) {
			return r, true, nil
		}
	}
	return store.Record{}, false, nil
}
func (f fileReader) Records() ([]store.Record, error) { return f.recs, nil }
func (f fileReader) ScanRange(prefix string, after *string, b store.Bound) ([]store.KV, error) {
	all, _ := f.Scan(prefix)
	var out []store.KV
	g := b.Budget()
	for _, kv := range all {
		if after != nil && kv.Key <= *after {
			continue
		}
		out = append(out, kv)
		if !g.Take(kv.Size()) {
			break
		}
	}
	return out, nil
}
func (f fileReader) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	var out []store.Record
	g := b.Budget()
	for _, rec := range f.recs {
		if len(after) > 0 && bytes.Compare(rec.TxID, after) <= 0 {
			continue
		}
		out = append(out, rec)
		if !g.Take(rec.Size()) {
			break
		}
	}
	return out, nil
}

// TestOverlayNeverHidesNewerWrites checks the merge of the overlay with the
// file: a stale overlay entry (its batch committed, and a later write of the
// file superseding it) never wins.
func TestOverlayNeverHidesNewerWrites(t *testing.T) {
	t1, t2, t3 := []byte("tx-1............"), []byte("tx-2............"), []byte("tx-3............")
	file := fileReader{
		data: map[string]store.KV{"a": {Key: "a", Version: 5}, "b": {Key: "b", Version: 2}},
		res:  map[string][]byte{"a": t2, "b": t1},
		recs: []store.Record{{TxID: t1, State: store.TxPrepared}, {TxID: t2, State: store.TxCommitted}},
	}
	ws := newWriteSet()
	ws.data["a"] = store.KV{Key: "a", Version: 4} // stale: the file has 5
	ws.data["b"] = store.KV{Key: "b", Version: 3} // newer
	ws.data["0"] = store.KV{Key: "0", Version: 0} // only in the overlay
	ws.released["a"] = t1                         // the file holds a for t2 now
	ws.released["b"] = t1                         // released
	ws.recs[string(t1)] = store.Record{TxID: t1, State: store.TxCommitted}
	ws.recs[string(t2)] = store.Record{TxID: t2, State: store.TxPrepared} // never back to prepared
	ws.recs[string(t3)] = store.Record{TxID: t3, State: store.TxCommitted}
	r := &lazyReader{Reader: file, sets: []*writeSet{ws}}

	if kv, _, _ := r.Get("a"); kv.Version != 5 {
		t.Errorf("Get a: version %d, want the file's 5", kv.Version)
	}
	if kv, _, _ := r.Get("b"); kv.Version != 3 {
		t.Errorf("Get b: version %d, want the overlay's 3", kv.Version)
	}
	kvs, _ := r.Scan("")
	var got []int64
	var order []string
	for _, kv := range kvs {
		got, order = append(got, kv.Version), append(order, kv.Key)
	}
	if !slices.Equal(order, []string{"0", "a", "b"}) || !slices.Equal(got, []int64{0, 5, 3}) {
		t.Errorf("Scan: keys %v versions %v, want [0 a b] [0 5 3]", order, got)
	}
	if by, ok, _ := r.Reservation("a"); !ok || !bytes.Equal(by, t2) {
		t.Errorf("Reservation a: %q %v, want held by tx-2", by, ok)
	}
	if _, ok, _ := r.Reservation("b"); ok {
		t.Error("Reservation b: held, want released")
	}
	for _, want := range []struct {
		txid  []byte
		state store.TxState
	}{{t1, store.TxCommitted}, {t2, store.TxCommitted}, {t3, store.TxCommitted}} {
		if rec, ok, _ := r.Record(want.txid); !ok || rec.State != want.state {
			t.Errorf("Record %s: %v %v, want %v", want.txid, rec.State, ok, want.state)
		}
	}
	recs, _ := r.Records()
	if len(recs) != 3 || !bytes.Equal(recs[2].TxID, t3) || recs[0].State != store.TxCommitted || recs[1].State != store.TxCommitted {
		t.Errorf("Records: %+v, want tx-1 and tx-2 committed, then tx-3", recs)
	}
}

// TestOverlayPagesNeitherSkipNorRepeat pages through a namespace whose keys and
// records are partly in the file and partly only in the overlay: every page
// holds what a bounded read of the merged namespace would, so the pages list
// each key and record once, in order.
func TestOverlayPagesNeitherSkipNorRepeat(t *testing.T) {
	id := func(s string) []byte { return []byte(s + "..............") }
	file := fileReader{data: map[string]store.KV{}}
	ws := newWriteSet()
	for i, k := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		if i%2 == 0 {
			file.data[k] = store.KV{Key: k, Version: 1}
			file.recs = append(file.recs, store.Record{TxID: id(k), State: store.TxPrepared})
		} else {
			ws.data[k] = store.KV{Key: k, Version: 1}
			ws.recs[string(id(k))] = store.Record{TxID: id(k), State: store.TxCommitted}
		}
	}
	ws.data["c"] = store.KV{Key: "c", Version: 2}
	r := &lazyReader{Reader: file, sets: []*writeSet{ws}}
	for _, items := range []int{1, 2, 3, 10} {
		var keys []string
		var after *string
		for page := 0; page < 20; page++ {
			kvs, err := r.ScanRange("", after, store.Bound{Items: items})
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range kvs {
				keys = append(keys, kv.Key)
				if kv.Key == "c" && kv.Version != 2 {
					t.Errorf("pages of %d: c at version %d, want the overlay's 2", items, kv.Version)
				}
			}
			if len(kvs) < items {
				break
			}
			after = &kvs[len(kvs)-1].Key
		}
		if want := []string{"a", "b", "c", "d", "e", "f", "g"}; !slices.Equal(keys, want) {
			t.Errorf("pages of %d keys: %v, want %v", items, keys, want)
		}
		var txids []string
		var last []byte
		for page := 0; page < 20; page++ {
			recs, err := r.RecordsRange(last, store.Bound{Items: items})
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs {
				txids = append(txids, string(rec.TxID[:1]))
			}
			if len(recs) < items {
				break
			}
			last = recs[len(recs)-1].TxID
		}
		if want := []string{"a", "b", "c", "d", "e", "f", "g"}; !slices.Equal(txids, want) {
			t.Errorf("pages of %d records: %v, want %v", items, txids, want)
		}
	}
}

// TestOverlayRangesAreBoundedReadsOfTheMerge checks every range read of a
// namespace whose overlay shrinks some file entries (a committed record drops
// the prepared writes; a newer value is shorter) and adds others against the
// reference: the merged namespace after the start, cut by the bound as
// store.Bound documents. A read that stopped at the file's cut would return
// less than the bound, which a caller takes for the end of the namespace.
func TestOverlayRangesAreBoundedReadsOfTheMerge(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, 200)
	file := fileReader{data: map[string]store.KV{}}
	ws := newWriteSet()
	for i := range 12 {
		k := string(rune('a' + i))
		txid := []byte(k + "...............")
		switch i % 3 {
		case 0:
			file.data[k] = store.KV{Key: k, Version: 1, Value: big}
			ws.data[k] = store.KV{Key: k, Version: 2, Value: []byte("s")}
			file.recs = append(file.recs, store.Record{TxID: txid, State: store.TxPrepared, KVs: []store.KV{{Key: k, Value: big}}})
			ws.recs[string(txid)] = store.Record{TxID: txid, State: store.TxCommitted}
		case 1:
			file.data[k] = store.KV{Key: k, Version: 1, Value: big}
			file.recs = append(file.recs, store.Record{TxID: txid, State: store.TxPrepared, KVs: []store.KV{{Key: k, Value: big}}})
		case 2:
			ws.data[k] = store.KV{Key: k, Version: 0, Value: []byte("n")}
			ws.recs[string(txid)] = store.Record{TxID: txid, State: store.TxCommitted}
		}
	}
	r := &lazyReader{Reader: file, sets: []*writeSet{ws}}
	allKVs, _ := r.Scan("")
	allRecs, _ := r.Records()
	bounds := []store.Bound{{}, {Items: 1}, {Items: 4}, {Bytes: 1}, {Bytes: 100}, {Bytes: 300}, {Bytes: 700}, {Items: 3, Bytes: 250}}
	for _, b := range bounds {
		for _, after := range []string{"", "a", "b", "c", "f", "k", "z"} {
			var start *string
			if after != "" {
				start = &after
			}
			got, err := r.ScanRange("", start, b)
			if err != nil {
				t.Fatal(err)
			}
			var want []store.KV
			g := b.Budget()
			for _, kv := range allKVs {
				if start != nil && kv.Key <= after {
					continue
				}
				want = append(want, kv)
				if !g.Take(kv.Size()) {
					break
				}
			}
			if !slices.EqualFunc(got, want, func(x, y store.KV) bool { return x.Key == y.Key && x.Version == y.Version }) {
				t.Errorf("ScanRange(after %q, %+v): %d key-values, want %d", after, b, len(got), len(want))
			}
			var from []byte
			if after != "" {
				from = []byte(after + "...............")
			}
			recs, err := r.RecordsRange(from, b)
			if err != nil {
				t.Fatal(err)
			}
			var wantRecs []store.Record
			g = b.Budget()
			for _, rec := range allRecs {
				if from != nil && bytes.Compare(rec.TxID, from) <= 0 {
					continue
				}
				wantRecs = append(wantRecs, rec)
				if !g.Take(rec.Size()) {
					break
				}
			}
			if !slices.EqualFunc(recs, wantRecs, func(x, y store.Record) bool { return bytes.Equal(x.TxID, y.TxID) && x.State == y.State }) {
				t.Errorf("RecordsRange(after %q, %+v): %d records, want %d", after, b, len(recs), len(wantRecs))
			}
		}
	}
}

// TestViewLeavesOutWriteSetsTheFileHolds races a View with the commit of a held
// batch: the View takes the overlay while a lazy update's write set is in it,
// then the batch commits with a later Update that rewrote the same record in
// place (as every write rewrites the client's usage record), and only then does
// the View open its read transaction. The file holds the later write; the
// overlay's stale copy must not hide it.
func TestViewLeavesOutWriteSetsTheFileHolds(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	inPlace := func(seal string) func(store.Txn) error {
		return func(tx store.Txn) error {
			return tx.SetRecord(store.Record{TxID: lazyTxID, State: store.TxCommitted, Seal: []byte(seal)})
		}
	}
	if err := b.Update(context.Background(), client, inPlace("first")); err != nil {
		t.Fatal(err)
	}
	b.hold = time.Minute
	if err := b.UpdateLazy(context.Background(), client, inPlace("lazy")); err != nil {
		t.Fatal(err)
	}
	tookOverlay, openFile := make(chan struct{}), make(chan struct{})
	b.betweenOverlayAndFile = func() { close(tookOverlay); <-openFile }
	read := make(chan string, 1)
	go func() {
		var seal string
		err := b.View(context.Background(), client, func(r store.Reader) error {
			rec, _, err := r.Record(lazyTxID)
			seal = string(rec.Seal)
			return err
		})
		if err != nil {
			seal = err.Error()
		}
		read <- seal
	}()
	<-tookOverlay
	// Joins the held batch after the lazy update and returns once it committed.
	if err := b.Update(context.Background(), client, inPlace("later")); err != nil {
		t.Fatal(err)
	}
	close(openFile)
	select {
	case got := <-read:
		if got != "later" {
			t.Fatalf("View read the record as %q, want %q: a write set the file already held hid the later write", got, "later")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("View did not return")
	}
}
