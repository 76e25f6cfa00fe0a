// Package storetest is the conformance suite every store.Backend must pass. It drives
// a backend through store.Store, the same path the server takes, and checks every
// storage rule of the protocol: the version rule, conflicts in request order,
// all-or-nothing writes, prefix reads from one snapshot, isolation between clients,
// concurrency, forward-only restore, the transaction state table with reservations
// and fencing, the txid and commit proof stored with values and the seal kept with
// records, Restore's all-or-nothing transaction groups, point reads of records
// and pages of the prepared ones, pruning, per-client quotas, and, when the
// backend is durable, persistence across a restart; and that a closed backend answers store.ErrClosed.
//
// A backend's own test calls Run with a Factory:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Factory{Open: func(t *testing.T) store.Backend { ... }})
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

// Factory opens backends for the suite.
type Factory struct {
	// Open returns a backend. Namespaces used by the suite are fresh random client
	// ids, so the backend need not be empty. Open registers whatever cleanup the
	// backend needs (t.Cleanup); the suite itself closes a backend only through
	// Reopen, so Close may be called twice and must tolerate that.
	Open func(t *testing.T) store.Backend
	// Reopen, if non-nil, closes b and opens the same data again (restart
	// persistence).
	Reopen func(t *testing.T, b store.Backend) store.Backend
}

// Run runs the whole suite against the backends f opens. Subtests run in parallel,
// each on its own client ids.
func Run(t *testing.T, f Factory) {
	t.Helper()
	if f.Open == nil {
		t.Fatal("storetest: Factory.Open is nil")
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"VersionRule", testVersionRule},
		{"ConflictsInRequestOrder", testConflictsInRequestOrder},
		{"Atomicity", testAtomicity},
		{"InvalidKeys", testInvalidKeys},
		{"EmptyKeyAndValue", testEmptyKeyAndValue},
		{"Prefix", testPrefix},
		{"ClientIsolation", testClientIsolation},
		{"LargeValue", testLargeValue},
		{"ManyKeys", testManyKeys},
		{"NoAliasing", testNoAliasing},
		{"CanceledContext", testCanceledContext},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"ConcurrentDisjoint", testConcurrentDisjoint},
		{"SnapshotReads", testSnapshotReads},
		{"Restore", testRestore},
		{"RestoreInvalid", testRestoreInvalid},
		{"CommitStoresProofs", testCommitStoresProofs},
		{"SealAndTxFieldsValidation", testSealAndTxFieldsValidation},
		{"RestoreStoresTxFields", testRestoreStoresTxFields},
		{"RestoreGroupBlocked", testRestoreGroupBlocked},
		{"RestoreGroupClosed", testRestoreGroupClosed},
		{"RestoreSettlesPrepared", testRestoreSettlesPrepared},
		{"TxStateTable", testTxStateTable},
		{"TxIDValidation", testTxIDValidation},
		{"Reservations", testReservations},
		{"PreparedInvisible", testPreparedInvisible},
		{"PrepareConflictLeavesNoRecord", testPrepareConflictLeavesNoRecord},
		{"Transactions", testTransactions},
		{"Prune", testPrune},
		{"PruneMany", testPruneMany},
		{"PrepareQuorum", testPrepareQuorum},
		{"ConcurrentPrepare", testConcurrentPrepare},
		{"Restart", testRestart},
		{"QuotaKeysAndBytes", testQuotaKeysAndBytes},
		{"QuotaLowered", testQuotaLowered},
		{"QuotaPending", testQuotaPending},
		{"ScanRange", testScanRange},
		{"RecordsRange", testRecordsRange},
		{"Pages", testPages},
		{"TransactionsOf", testTransactionsOf},
		{"PendingPages", testPendingPages},
		{"PendingListKept", testPendingListKept},
		{"PendingListFromOldUsage", testPendingListFromOldUsage},
		{"Generation", testGeneration},
		{"Closed", testClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, f)
		})
	}
}

// env is one subtest's view: a Store over a fresh backend, a fake clock, and a
// fresh client namespace.
type env struct {
	t      *testing.T
	b      store.Backend
	s      *store.Store
	clock  *clock
	client []byte
}

// retention is the record retention the suite's stores use.
const retention = 7 * 24 * time.Hour

func newEnv(t *testing.T, f Factory) *env {
	t.Helper()
	b := f.Open(t)
	if b == nil {
		t.Fatal("storetest: Factory.Open returned nil")
	}
	e := &env{t: t, b: b, clock: newClock(), client: newClient(t)}
	e.s = e.store(b)
	return e
}

func (e *env) store(b store.Backend) *store.Store {
	return store.New(b, store.Options{Retention: retention, Now: e.clock.Now})
}

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// newClient returns a random client id shaped like a compressed public key.
func newClient(t *testing.T) []byte {
	t.Helper()
	id := make([]byte, 33)
	if _, err := rand.Read(id[1:]); err != nil {
		t.Fatal(err)
	}
	id[0] = 0x02
	return id
}

// newTxID returns a random 32-byte txid.
func newTxID(t *testing.T) []byte {
	t.Helper()
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		t.Fatal(err)
	}
	return id
}

func kv(key string, version int64, value string) store.KV {
	return store.KV{Key: key, Version: version, Value: []byte(value)}
}

// put writes kvs and requires success.
func (e *env) put(kvs ...store.KV) {
	e.t.Helper()
	e.putTo(e.client, kvs...)
}

func (e *env) putTo(client []byte, kvs ...store.KV) {
	e.t.Helper()
	conflicts, err := e.s.Put(ctx(e.t), client, kvs)
	if err != nil {
		e.t.Fatalf("Put: %v", err)
	}
	if len(conflicts) > 0 {
		e.t.Fatalf("Put: unexpected conflicts %s", formatConflicts(conflicts))
	}
}

// get reads prefix and requires success.
func (e *env) get(prefix string) []store.KV {
	e.t.Helper()
	return e.getFrom(e.client, prefix)
}

func (e *env) getFrom(client []byte, prefix string) []store.KV {
	e.t.Helper()
	kvs, err := e.s.Get(ctx(e.t), client, prefix)
	if err != nil {
		e.t.Fatalf("Get(%q): %v", prefix, err)
	}
	return kvs
}

// wantKVs requires the client's whole namespace to be exactly want.
func (e *env) wantAll(want ...store.KV) {
	e.t.Helper()
	wantKVs(e.t, "Get(\"\")", e.get(""), want)
}

// prepare prepares kvs under txid and requires state prepared without conflicts.
func (e *env) prepare(txid []byte, kvs ...store.KV) {
	e.t.Helper()
	state, conflicts, err := e.s.Prepare(ctx(e.t), e.client, txid, kvs)
	if err != nil || len(conflicts) > 0 || state != store.TxPrepared {
		e.t.Fatalf("Prepare(%x) = %v, %s, %v; want prepared", txid, state, formatConflicts(conflicts), err)
	}
}

// record returns txid's record from Transactions, or ok=false.
func (e *env) record(txid []byte) (store.Record, bool) {
	e.t.Helper()
	recs, err := e.s.Transactions(ctx(e.t), e.client)
	if err != nil {
		e.t.Fatalf("Transactions: %v", err)
	}
	for _, rec := range recs {
		if bytes.Equal(rec.TxID, txid) {
			return rec, true
		}
	}
	return store.Record{}, false
}

// wantRecord requires txid's record to be in state with the given writes.
func (e *env) wantRecord(txid []byte, state store.TxState, kvs ...store.KV) {
	e.t.Helper()
	rec, ok := e.record(txid)
	if !ok {
		e.t.Fatalf("record of %x missing, want %v", txid, state)
	}
	if rec.State != state {
		e.t.Fatalf("record of %x is %v, want %v", txid, rec.State, state)
	}
	wantKVs(e.t, "record writes", rec.KVs, kvs)
}

func (e *env) wantNoRecord(txid []byte) {
	e.t.Helper()
	if rec, ok := e.record(txid); ok {
		e.t.Fatalf("record of %x is %v, want none", txid, rec.State)
	}
}
