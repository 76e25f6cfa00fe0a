package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// quotaEnv is an env whose store enforces q.
func quotaEnv(t *testing.T, f Factory, q store.Quota) *env {
	t.Helper()
	e := newEnv(t, f)
	e.s = store.New(e.b, store.Options{Retention: retention, Now: e.clock.Now, Quota: q})
	return e
}

// wantUsage requires the client's usage to be want.
func (e *env) wantUsage(what string, want store.Usage) {
	e.t.Helper()
	got, err := e.s.Usage(ctx(e.t), e.client)
	if err != nil {
		e.t.Fatalf("%s: Usage: %v", what, err)
	}
	if got != want {
		e.t.Fatalf("%s: usage %+v, want %+v", what, got, want)
	}
}

// wantQuotaErr requires err to be ErrQuota naming the quota and its numbers.
func wantQuotaErr(t *testing.T, what string, err error, words ...string) {
	t.Helper()
	if !errors.Is(err, store.ErrQuota) {
		t.Fatalf("%s: err %v, want ErrQuota", what, err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("%s: message %q does not name %q", what, err, w)
		}
	}
}

// testQuotaKeysAndBytes: Put and Restore that would go over the keys or bytes
// quota are refused whole; overwriting with smaller values lowers usage; another
// client is unaffected.
func testQuotaKeysAndBytes(t *testing.T, f Factory) {
	e := quotaEnv(t, f, store.Quota{MaxKeys: 3, MaxBytes: 40})
	e.put(kv("a", 0, "0123456789"), kv("b", 0, "0123456789")) // 22 bytes
	e.wantUsage("after two keys", store.Usage{Keys: 2, Bytes: 22})

	// Two new keys where one is left: refused whole.
	_, err := e.s.Put(ctx(t), e.client, []store.KV{kv("c", 0, "x"), kv("d", 0, "x")})
	wantQuotaErr(t, "put over keys", err, "keys quota is 3", "holds 2", "make it 4")
	wantKVs(t, "after refused put", e.get(""), []store.KV{kv("a", 0, "0123456789"), kv("b", 0, "0123456789")})
	e.wantUsage("after refused put", store.Usage{Keys: 2, Bytes: 22})

	// A bigger value over the bytes quota, with a key that fits: refused whole.
	_, err = e.s.Put(ctx(t), e.client, []store.KV{kv("a", 1, strings.Repeat("y", 20)), kv("c", 0, strings.Repeat("y", 10))})
	wantQuotaErr(t, "put over bytes", err, "bytes quota is 40", "holds 22", "make it 43")
	_, err = e.s.Put(ctx(t), e.client, []store.KV{kv("a", 1, strings.Repeat("y", 29))})
	wantQuotaErr(t, "put over bytes", err, "bytes quota is 40", "holds 22", "make it 41")
	wantKVs(t, "after refused bytes", e.get(""), []store.KV{kv("a", 0, "0123456789"), kv("b", 0, "0123456789")})

	// Restore is held to the same quotas, and refused whole.
	_, _, err = e.s.Restore(ctx(t), e.client, []store.KV{kv("c", 3, "z"), kv("d", 3, "z")})
	wantQuotaErr(t, "restore over keys", err, "keys quota is 3")
	wantKVs(t, "after refused restore", e.get(""), []store.KV{kv("a", 0, "0123456789"), kv("b", 0, "0123456789")})

	// Up to the limit exactly is allowed.
	e.put(kv("a", 1, strings.Repeat("y", 28))) // 22 - 11 + 29 = 40
	e.wantUsage("at the bytes limit", store.Usage{Keys: 2, Bytes: 40})
	// Overwriting with smaller values gives the bytes back.
	e.put(kv("a", 2, ""), kv("b", 1, "1"))
	e.wantUsage("after shrinking", store.Usage{Keys: 2, Bytes: 3})
	e.put(kv("c", 0, strings.Repeat("z", 36)))
	e.wantUsage("after third key", store.Usage{Keys: 3, Bytes: 40})

	// Another client has its own quota.
	other := newClient(t)
	e.putTo(other, kv("a", 0, strings.Repeat("o", 39)))
}

// testQuotaLowered: a client over a lowered quota can still write what does not
// grow its usage, and nothing that does.
func testQuotaLowered(t *testing.T, f Factory) {
	e := newEnv(t, f) // unlimited, as a server before its quota was set
	e.put(kv("a", 0, "0123456789"), kv("b", 0, "0123456789"))
	e.s = store.New(e.b, store.Options{Retention: retention, Now: e.clock.Now, Quota: store.Quota{MaxKeys: 1, MaxBytes: 10}})
	e.wantUsage("counted from the data", store.Usage{Keys: 2, Bytes: 22})
	e.put(kv("a", 1, "012345678"))
	e.wantUsage("after shrinking", store.Usage{Keys: 2, Bytes: 21})
	_, err := e.s.Put(ctx(t), e.client, []store.KV{kv("a", 2, "0123456789")})
	wantQuotaErr(t, "growing over a lowered quota", err, "bytes quota is 10", "holds 21")
}

// testQuotaPending: Prepare counts its writes and the pending transaction at once;
// one over a quota leaves no record and no reservation; Commit and Abort give
// back what Prepare took.
func testQuotaPending(t *testing.T, f Factory) {
	e := quotaEnv(t, f, store.Quota{MaxKeys: 3, MaxBytes: 100, MaxPending: 2})
	e.put(kv("a", 0, "1234"))
	tx1, tx2, tx3 := newTxID(t), newTxID(t), newTxID(t)
	mustPrepare := func(txid []byte, kvs ...store.KV) {
		t.Helper()
		st, c, err := e.s.Prepare(ctx(t), e.client, txid, kvs)
		if err != nil || len(c) > 0 || st != store.TxPrepared {
			t.Fatalf("Prepare: state %v conflicts %v err %v", st, c, err)
		}
	}
	mustPrepare(tx1, kv("a", 1, "12345678"), kv("b", 0, "1234")) // key b is new; 9+5 bytes
	e.wantUsage("after one prepare", store.Usage{Keys: 2, Bytes: 5 + 14, Pending: 1})
	mustPrepare(tx2, kv("c", 0, ""))
	e.wantUsage("after two prepares", store.Usage{Keys: 3, Bytes: 20, Pending: 2})

	_, _, err := e.s.Prepare(ctx(t), e.client, tx3, []store.KV{kv("d", 0, "")})
	wantQuotaErr(t, "third prepare", err, "pending transactions quota is 2", "holds 2", "make it 3")
	if _, ok := findRecord(t, e, tx3); ok {
		t.Fatal("refused prepare left a record")
	}
	// Its key is not reserved: a Put of it is judged by the keys quota alone.
	_, err = e.s.Put(ctx(t), e.client, []store.KV{kv("d", 0, "")})
	wantQuotaErr(t, "put of a fourth key", err, "keys quota is 3")

	if err := e.s.Commit(ctx(t), e.client, tx1, [][]byte{[]byte("p1"), []byte("p2")}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	e.wantUsage("after commit", store.Usage{Keys: 3, Bytes: 9 + 5 + 1, Pending: 1})
	if err := e.s.Abort(ctx(t), e.client, tx2); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	e.wantUsage("after abort", store.Usage{Keys: 2, Bytes: 14})
	mustPrepare(tx3, kv("d", 0, ""))
	e.wantUsage("after the third prepare fits", store.Usage{Keys: 3, Bytes: 15, Pending: 1})

	// Restore settling a prepared transaction gives its place back too.
	if _, _, err := e.s.Restore(ctx(t), e.client, []store.KV{{Key: "d", Version: 0, TxID: tx3, Proof: []byte("p")}}); err != nil {
		t.Fatalf("Restore settling tx3: %v", err)
	}
	e.wantUsage("after restore settles", store.Usage{Keys: 3, Bytes: 15})
	// The usage record is no transaction of the client's.
	recs, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("Transactions: %d records, want 3 (the usage record must stay hidden)", len(recs))
	}
}

func findRecord(t *testing.T, e *env, txid []byte) (store.Record, bool) {
	t.Helper()
	recs, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if string(r.TxID) == string(txid) {
			return r, true
		}
	}
	return store.Record{}, false
}
