package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

func testVersionRule(t *testing.T, f Factory) {
	e := newEnv(t, f)
	if got := e.get(""); len(got) != 0 {
		t.Fatalf("fresh client holds %s", formatKVs(got))
	}
	e.put(kv("k", 0, "v0"))
	e.wantAll(kv("k", 0, "v0"))

	for _, bad := range []store.KV{kv("k", 0, "again"), kv("k", 2, "skip"), kv("k", -1, "negative")} {
		conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{bad})
		if err != nil {
			t.Fatalf("Put(k@%d): %v", bad.Version, err)
		}
		wantConflicts(t, fmt.Sprintf("Put(k@%d)", bad.Version), conflicts, []store.Conflict{stored("k", 0, "v0")})
	}
	e.wantAll(kv("k", 0, "v0"))

	e.put(kv("k", 1, "v1"))
	e.put(kv("k", 2, "v2"))
	e.wantAll(kv("k", 2, "v2"))

	// An absent key must be written at version 0; anything else conflicts with -1.
	for _, version := range []int64{1, 5, -1} {
		conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{kv("new", version, "x")})
		if err != nil {
			t.Fatalf("Put(new@%d): %v", version, err)
		}
		wantConflicts(t, fmt.Sprintf("Put(new@%d)", version), conflicts, []store.Conflict{absent("new")})
		if len(conflicts) == 1 && len(conflicts[0].Value) != 0 {
			t.Fatalf("conflict for an absent key carries value %q", conflicts[0].Value)
		}
	}
	e.wantAll(kv("k", 2, "v2"))
}

func testConflictsInRequestOrder(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("a", 0, "A"), kv("c", 0, "C"), kv("e", 0, "E"))
	conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{
		kv("a", 0, "x"), // stale
		kv("b", 0, "x"), // fine alone
		kv("c", 3, "x"), // skips a version
		kv("d", 2, "x"), // absent
		kv("e", 1, "x"), // fine alone
		kv("f", 1, "x"), // absent
	})
	if err != nil {
		t.Fatal(err)
	}
	wantConflicts(t, "Put", conflicts, []store.Conflict{
		stored("a", 0, "A"), stored("c", 0, "C"), absent("d"), absent("f"),
	})
	e.wantAll(kv("a", 0, "A"), kv("c", 0, "C"), kv("e", 0, "E"))
}

func testAtomicity(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("k1", 0, "one"), kv("k2", 0, "two"), kv("k3", 0, "three"))
	// Every key but the last is right: nothing may be written.
	conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{
		kv("k0", 0, "new"), kv("k1", 1, "one'"), kv("k2", 1, "two'"), kv("k3", 0, "three'"),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantConflicts(t, "Put", conflicts, []store.Conflict{stored("k3", 0, "three")})
	e.wantAll(kv("k1", 0, "one"), kv("k2", 0, "two"), kv("k3", 0, "three"))

	// The same put with the last key fixed writes everything.
	e.put(kv("k0", 0, "new"), kv("k1", 1, "one'"), kv("k2", 1, "two'"), kv("k3", 1, "three'"))
	e.wantAll(kv("k0", 0, "new"), kv("k1", 1, "one'"), kv("k2", 1, "two'"), kv("k3", 1, "three'"))
}

func testInvalidKeys(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("b", 0, "B"))
	txid := newTxID(t)
	for _, tc := range []struct {
		name string
		kvs  []store.KV
	}{
		{"unsorted", []store.KV{kv("c", 0, "x"), kv("a", 0, "x")}},
		{"unsorted after valid", []store.KV{kv("a", 0, "x"), kv("c", 0, "x"), kv("b", 1, "x")}},
		{"duplicate", []store.KV{kv("a", 0, "x"), kv("a", 0, "y")}},
		{"duplicate of stored", []store.KV{kv("b", 1, "x"), kv("b", 1, "y")}},
		{"byte order", []store.KV{kv("\xff", 0, "x"), kv("\x00", 0, "x")}},
	} {
		_, err := e.s.Put(ctx(t), e.client, tc.kvs)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Put %s: err = %v, want ErrInvalid", tc.name, err)
		}
		_, _, err = e.s.Prepare(ctx(t), e.client, txid, tc.kvs)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Prepare %s: err = %v, want ErrInvalid", tc.name, err)
		}
		_, _, err = e.s.Restore(ctx(t), e.client, tc.kvs)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Restore %s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	e.wantAll(kv("b", 0, "B"))
	e.wantNoRecord(txid)
	// Nothing is reserved either: b can still move on.
	e.put(kv("a", 0, "A"), kv("b", 1, "B'"), kv("c", 0, "C"))
}

func testEmptyKeyAndValue(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("", 0, "empty key"), kv("k", 0, ""))
	e.wantAll(kv("", 0, "empty key"), kv("k", 0, ""))
	e.put(store.KV{Key: "", Version: 1}, store.KV{Key: "k", Version: 1, Value: []byte{}})
	e.wantAll(kv("", 1, ""), kv("k", 1, ""))
	conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{kv("", 1, "x")})
	if err != nil {
		t.Fatal(err)
	}
	wantConflicts(t, "Put(\"\"@1)", conflicts, []store.Conflict{stored("", 1, "")})
}

// prefixKeys share prefixes with each other and use the extreme bytes, so that a
// backend that scans by anything but exact byte prefix gets one of them wrong.
var prefixKeys = []string{
	"", "\x00", "\x00\x00", "\x00\xff", "a", "a\x00", "a\x00b", "a\xff", "a\xff\xff", "ab",
	"aba", "abc", "abc\x00", "abd", "b", "b/", "b/c", "b0", "\x7f", "\xfe\xff", "\xff",
	"\xff\x00", "\xff\xff", "\xff\xff\xff",
}

var prefixes = []string{
	"", "\x00", "\x00\x00", "\x00\x01", "\xff", "\xff\xff", "\xff\xff\xff", "\xff\xff\xff\xff",
	"a", "a\x00", "a\xff", "ab", "abc", "abc\x00", "abcd", "abc\x00\x00", "b", "b/", "c",
	"\xfe", "\x7f", "\x80",
}

func testPrefix(t *testing.T, f Factory) {
	e := newEnv(t, f)
	var kvs []store.KV
	for i, k := range slices.Sorted(slices.Values(prefixKeys)) {
		kvs = append(kvs, kv(k, 0, fmt.Sprintf("value %d", i)))
	}
	e.put(kvs...)
	for _, p := range prefixes {
		var want []store.KV
		for _, x := range kvs {
			if strings.HasPrefix(x.Key, p) {
				want = append(want, x)
			}
		}
		wantKVs(t, fmt.Sprintf("Get(%q)", p), e.get(p), want)
	}
}

func testClientIsolation(t *testing.T, f Factory) {
	e := newEnv(t, f)
	// other extends e.client by one byte, and shorter is e.client minus its last
	// byte, so a layout that joins client id and key without a boundary mixes them.
	other := append(slices.Clone(e.client), 'a')
	shorter := e.client[:len(e.client)-1]
	keys := []string{"", "a", "ab", "b"}
	for i, c := range [][]byte{e.client, other, shorter} {
		var kvs []store.KV
		for _, k := range keys {
			kvs = append(kvs, kv(k, 0, fmt.Sprintf("client %d key %q", i, k)))
		}
		e.putTo(c, kvs...)
	}
	for i, c := range [][]byte{e.client, other, shorter} {
		var want []store.KV
		for _, k := range keys {
			want = append(want, kv(k, 0, fmt.Sprintf("client %d key %q", i, k)))
		}
		wantKVs(t, fmt.Sprintf("client %d Get(\"\")", i), e.getFrom(c, ""), want)
		wantKVs(t, fmt.Sprintf("client %d Get(\"a\")", i), e.getFrom(c, "a"), want[1:3])
	}
	// A write under one client does not move another's versions.
	e.putTo(other, kv("a", 1, "moved"))
	e.putTo(e.client, kv("a", 1, "also moved"))
	if got := e.getFrom(shorter, "a"); len(got) != 2 || got[0].Version != 0 {
		t.Fatalf("shorter client's a = %s, want version 0", formatKVs(got))
	}
	// Transactions are per client too.
	txid := newTxID(t)
	e.prepare(txid, kv("b", 1, "tx"))
	for _, c := range [][]byte{other, shorter, newClient(t)} {
		recs, err := e.s.Transactions(ctx(t), c)
		if err != nil || len(recs) != 0 {
			t.Fatalf("another client's Transactions = %d records, %v; want none", len(recs), err)
		}
		if err := e.s.Commit(ctx(t), c, txid, [][]byte{proof(txid, "b")}); !errors.Is(err, store.ErrTxUnknown) {
			t.Fatalf("Commit under another client: %v, want ErrTxUnknown", err)
		}
		e.putTo(c, kv("z", 0, "reservations are per client"))
	}
	conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{kv("b", 1, "x")})
	if err != nil {
		t.Fatal(err)
	}
	wantConflicts(t, "Put(b)", conflicts, []store.Conflict{reserved(stored("b", 0, `client 0 key "b"`), txid)})
}

func testLargeValue(t *testing.T, f Factory) {
	e := newEnv(t, f)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	e.put(store.KV{Key: "big", Version: 0, Value: big}, kv("small", 0, "s"))
	got := e.get("big")
	if len(got) != 1 || !bytes.Equal(got[0].Value, big) {
		t.Fatalf("1 MiB value did not read back intact")
	}
	conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{kv("big", 0, "x")})
	if err != nil || len(conflicts) != 1 || !bytes.Equal(conflicts[0].Value, big) {
		t.Fatalf("conflict on the 1 MiB key: %v, %d conflicts; want its stored value", err, len(conflicts))
	}
	big2 := bytes.Repeat([]byte{0xab}, 1<<20)
	e.put(store.KV{Key: "big", Version: 1, Value: big2})
	if got := e.get("big"); len(got) != 1 || !bytes.Equal(got[0].Value, big2) || got[0].Version != 1 {
		t.Fatalf("replaced 1 MiB value did not read back intact")
	}
}

func testManyKeys(t *testing.T, f Factory) {
	e := newEnv(t, f)
	const n = 1000
	kvs := make([]store.KV, n)
	for i := range kvs {
		kvs[i] = kv(fmt.Sprintf("key/%04d", i), 0, fmt.Sprintf("value %d", i))
	}
	e.put(kvs...)
	e.wantAll(kvs...)
	wantKVs(t, "Get(key/01)", e.get("key/01"), kvs[100:200])

	// Move all to version 1 except one stale key: nothing is written.
	next := make([]store.KV, n)
	for i := range next {
		next[i] = kv(kvs[i].Key, 1, fmt.Sprintf("next %d", i))
	}
	next[n/2].Version = 0
	conflicts, err := e.s.Put(ctx(t), e.client, next)
	if err != nil {
		t.Fatal(err)
	}
	wantConflicts(t, "Put", conflicts, []store.Conflict{stored(kvs[n/2].Key, 0, string(kvs[n/2].Value))})
	e.wantAll(kvs...)
	next[n/2].Version = 1
	e.put(next...)
	e.wantAll(next...)
}

// testNoAliasing checks that a backend keeps its own copies: changing a slice passed
// in or handed out must not change what is stored.
func testNoAliasing(t *testing.T, f Factory) {
	e := newEnv(t, f)
	in := []store.KV{kv("a", 0, "original"), kv("b", 0, "original")}
	e.put(in...)
	in[0].Value[0] = 'X'
	out := e.get("")
	out[1].Value[0] = 'Y'
	e.wantAll(kv("a", 0, "original"), kv("b", 0, "original"))

	txid := newTxID(t)
	id := slices.Clone(txid)
	prep := []store.KV{kv("c", 0, "prepared")}
	e.prepare(id, prep...)
	prep[0].Value[0] = 'X'
	id[0] ^= 0xff
	recs, err := e.s.Transactions(ctx(t), e.client)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Transactions = %d records, %v", len(recs), err)
	}
	recs[0].KVs[0].Value[0] = 'Y'
	recs[0].TxID[0] ^= 0xff
	conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{kv("c", 0, "x")})
	if err != nil || len(conflicts) != 1 {
		t.Fatalf("Put of a reserved key: %v, %d conflicts", err, len(conflicts))
	}
	conflicts[0].ReservedBy[0] ^= 0xff
	e.wantRecord(txid, store.TxPrepared, kv("c", 0, "prepared"))
	if err := e.commit(ctx(t), txid); err != nil {
		t.Fatal(err)
	}
	e.wantAll(kv("a", 0, "original"), kv("b", 0, "original"), kv("c", 0, "prepared"))
}

func testCanceledContext(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("a", 0, "A"))
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.s.Put(canceled, e.client, []store.KV{kv("a", 1, "x"), kv("b", 0, "x")}); err == nil {
		t.Fatal("Put with a canceled context succeeded")
	}
	txid := newTxID(t)
	if _, _, err := e.s.Prepare(canceled, e.client, txid, []store.KV{kv("c", 0, "x")}); err == nil {
		t.Fatal("Prepare with a canceled context succeeded")
	}
	e.wantAll(kv("a", 0, "A"))
	e.wantNoRecord(txid)
	e.put(kv("a", 1, "A'"), kv("c", 0, "C"))
}

// testConcurrentSameKey races writers on one key at one version: exactly one may
// win, and every loser sees the winner's value.
func testConcurrentSameKey(t *testing.T, f Factory) {
	e := newEnv(t, f)
	const writers = 16
	for version := int64(0); version < 3; version++ {
		var (
			wg        sync.WaitGroup
			start     = make(chan struct{})
			conflicts = make([][]store.Conflict, writers)
			errs      = make([]error, writers)
		)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				conflicts[w], errs[w] = e.s.Put(ctx(t), e.client, []store.KV{
					kv("k", version, fmt.Sprintf("writer %d", w)),
					kv(fmt.Sprintf("own/%02d/%d", w, version), 0, "x"),
				})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for w := range writers {
			switch {
			case errs[w] != nil:
				t.Fatalf("version %d writer %d: %v", version, w, errs[w])
			case len(conflicts[w]) == 0 && winner >= 0:
				t.Fatalf("version %d: writers %d and %d both succeeded", version, winner, w)
			case len(conflicts[w]) == 0:
				winner = w
			}
		}
		if winner < 0 {
			t.Fatalf("version %d: no writer succeeded", version)
		}
		winValue := fmt.Sprintf("writer %d", winner)
		for w := range writers {
			if w != winner {
				wantConflicts(t, fmt.Sprintf("version %d loser %d", version, w), conflicts[w],
					[]store.Conflict{stored("k", version, winValue)})
			}
		}
		got := e.get("")
		if got[0].Key != "k" {
			// "k" sorts before "own/": it is first.
			t.Fatalf("first key %q, want k", got[0].Key)
		}
		wantKVs(t, "k", got[:1], []store.KV{kv("k", version, winValue)})
		own := e.get(fmt.Sprintf("own/%02d/%d", winner, version))
		if len(own) != 1 {
			t.Fatalf("version %d: the winner's other key was not written", version)
		}
		for w := range writers {
			if w != winner && len(e.get(fmt.Sprintf("own/%02d/%d", w, version))) != 0 {
				t.Fatalf("version %d: loser %d's other key was written", version, w)
			}
		}
	}
}

// testConcurrentDisjoint runs writers on disjoint keys: every put succeeds.
func testConcurrentDisjoint(t *testing.T, f Factory) {
	e := newEnv(t, f)
	const writers, rounds = 16, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				conflicts, err := e.s.Put(ctx(t), e.client, []store.KV{
					kv(fmt.Sprintf("w%02d/a", w), int64(r), "a"),
					kv(fmt.Sprintf("w%02d/b", w), int64(r), "b"),
				})
				if err == nil && len(conflicts) > 0 {
					err = fmt.Errorf("writer %d round %d: conflicts %s", w, r, formatConflicts(conflicts))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var want []store.KV
	for w := range writers {
		want = append(want, kv(fmt.Sprintf("w%02d/a", w), rounds-1, "a"), kv(fmt.Sprintf("w%02d/b", w), rounds-1, "b"))
	}
	e.wantAll(want...)
}

func testRestore(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("equal", 0, "old"), kv("higher", 0, "old"), kv("lower", 0, "old"))
	e.put(kv("equal", 1, "old"), kv("higher", 1, "old"), kv("lower", 1, "old"))
	e.put(kv("equal", 2, "old"), kv("higher", 2, "old"), kv("lower", 2, "old"))
	held := newTxID(t)
	e.prepare(held, kv("held", 0, "prepared"))

	applied, kept, err := e.s.Restore(ctx(t), e.client, []store.KV{
		kv("absent", 0, "new"),
		kv("absent7", 7, "new"),
		kv("equal", 2, "new"),
		kv("held", 4, "new"),
		kv("higher", 5, "new"),
		kv("lower", 1, "new"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"absent", "absent7", "higher"}; !slices.Equal(applied, want) {
		t.Fatalf("applied = %q, want %q", applied, want)
	}
	wantConflicts(t, "kept", kept, []store.Conflict{
		stored("equal", 2, "old"), reserved(absent("held"), held), stored("lower", 2, "old"),
	})
	e.wantAll(kv("absent", 0, "new"), kv("absent7", 7, "new"), kv("equal", 2, "old"),
		kv("higher", 5, "new"), kv("lower", 2, "old"))
	// The version rule continues from the restored versions.
	e.put(kv("absent7", 8, "next"), kv("higher", 6, "next"))
	// The reservation still stands and its transaction still commits.
	if err := e.commit(ctx(t), held); err != nil {
		t.Fatal(err)
	}
	if got := e.get("held"); len(got) != 1 || got[0].Version != 0 || string(got[0].Value) != "prepared" {
		t.Fatalf("held = %s, want the prepared write", formatKVs(got))
	}
}

func testRestoreInvalid(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("a", 0, "A"))
	_, _, err := e.s.Restore(ctx(t), e.client, []store.KV{kv("a", 5, "x"), kv("b", -1, "x")})
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Restore with a negative version: %v, want ErrInvalid", err)
	}
	if err != nil && !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("error %q does not name the key", err)
	}
	e.wantAll(kv("a", 0, "A"))
}

// testSnapshotReads reads while a writer moves several keys together: every read
// must come from one snapshot, so the keys always carry the same version.
func testSnapshotReads(t *testing.T, f Factory) {
	e := newEnv(t, f)
	keys := []string{"a", "m", "z"}
	write := func(version int64) {
		kvs := make([]store.KV, len(keys))
		for i, k := range keys {
			kvs[i] = kv(k, version, fmt.Sprintf("version %d", version))
		}
		e.put(kvs...)
	}
	write(0)
	const rounds = 20
	done := make(chan struct{})
	var wg sync.WaitGroup
	const readers = 2
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := e.s.Get(ctx(t), e.client, "")
				if err == nil && (len(got) != len(keys) || got[0].Version != got[1].Version ||
					got[1].Version != got[2].Version || !bytes.Equal(got[0].Value, got[2].Value)) {
					err = fmt.Errorf("Get saw a write half done: %s", formatKVs(got))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for v := int64(1); v <= rounds; v++ {
		write(v)
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
