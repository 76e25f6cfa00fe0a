package quorum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/testnet"
)

// atomicNet is a testnet with a quorum client in atomic mode and a direct
// provider client per provider, all for one client key.
type atomicNet struct {
	t      *testing.T
	net    *testnet.Network
	key    *secp256k1.PrivateKey
	client *Client
	direct []*provider.Client
}

func startAtomicNet(t *testing.T, n int, baseOnly ...int) *atomicNet {
	t.Helper()
	return startAtomicNetConfig(t, testnet.Config{N: n, BaseOnly: baseOnly})
}

// startAtomicNetConfig is startAtomicNet over a network started with cfg (its Dir
// and Logger are the test's).
func startAtomicNetConfig(t *testing.T, cfg testnet.Config) *atomicNet {
	t.Helper()
	ctx := context.Background()
	net := harnessNetConfig(t, cfg)
	a := &atomicNet{t: t, net: net, key: harnessKey(t)}
	a.client = a.newClient()
	for _, p := range net.Providers() {
		cl, err := provider.Dial(ctx, provider.Options{Addr: p.Addr(), Name: p.Name(), ServerID: p.ServerID(), ClientKey: a.key,
			DialTimeout: harnessTimeout, Format: provider.FormatQuorum, Extension: !p.BaseOnly()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		a.direct = append(a.direct, cl)
	}
	return a
}

// newClient is another coordinator for the same client key (a second signer
// process, or a recovery tool), in atomic mode.
func (a *atomicNet) newClient() *Client {
	a.t.Helper()
	return harnessClient(a.t, a.net, a.key, atomicMode)
}

// prepare prepares es under txid on provider i as the coordinator of
// a.client does: with the quorum it records and its prepare seal.
func (a *atomicNet) prepare(ctx context.Context, i int, txid []byte, es []provider.Entry) (provider.TxState, error) {
	parts, _ := a.client.participants()
	q := (&txRun{parts: parts, wc: a.client.w}).quorum()
	return a.direct[i].Prepare(ctx, txid, q, a.client.prepareSeal(txid, q, es), es)
}

func (a *atomicNet) provider(i int) *testnet.Provider { return a.net.Providers()[i] }

// holds returns what provider i stores for key: its version, or -1 if absent.
func (a *atomicNet) holds(i int, key string) (int64, []byte) {
	a.t.Helper()
	es, err := a.direct[i].Get(context.Background(), key)
	if err != nil {
		a.t.Fatalf("%s: get %q: %v", a.direct[i].Name(), key, err)
	}
	for _, e := range a.plain(es) {
		if e.Key == key {
			return e.Version, e.Value
		}
	}
	return -1, nil
}

// expectEverywhere checks every provider holds key at version with value.
func (a *atomicNet) expectEverywhere(key string, version int64, value []byte) {
	a.t.Helper()
	for i := range a.direct {
		v, val := a.holds(i, key)
		if v != version || !bytes.Equal(val, value) {
			a.t.Errorf("%s holds %q at version %d (%x), want version %d (%x)", a.direct[i].Name(), key, v, val, version, value)
		}
	}
}

// txState returns what provider i records for txid.
func (a *atomicNet) txState(i int, txid []byte) provider.TxState {
	a.t.Helper()
	txs, err := a.direct[i].Status(context.Background())
	if err != nil {
		a.t.Fatalf("%s: status: %v", a.direct[i].Name(), err)
	}
	for _, tx := range txs {
		if bytes.Equal(tx.TxID, txid) {
			return tx.State
		}
	}
	return provider.TxUnknown
}

// waitState waits (bounded) until provider i records txid in state want: a
// Prepare sent before the coordinator stopped may still be landing.
func (a *atomicNet) waitState(i int, txid []byte, want provider.TxState) {
	a.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		s := a.txState(i, txid)
		if s == want {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%s holds %v, want %v", a.direct[i].Name(), s, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// putUntil puts kvs under txid with the coordinator stopped at stage at, as if it
// crashed there.
func (a *atomicNet) putUntil(at stage, txid []byte, kvs []provider.KV) {
	a.t.Helper()
	a.client.test.txid = func() []byte { return txid }
	a.client.test.stop = func(s stage) bool { return s == at }
	if _, err := a.client.Put(context.Background(), kvs); !errors.Is(err, errCoordinatorStopped) {
		a.t.Fatalf("err = %v, want the coordinator stopped", err)
	}
}

func one(key string, version int64, value string) []provider.KV {
	return []provider.KV{{Key: key, Version: version, Value: []byte(value)}}
}

func fixedTxID(b byte) func() []byte {
	return func() []byte { return bytes.Repeat([]byte{b}, TxIDSize) }
}

func TestAtomicPutCommitsEverywhere(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	res, err := a.client.Put(ctx, []provider.KV{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeAtomic || len(res.TxID) != TxIDSize || len(res.Acked) < 2 {
		t.Fatalf("result %+v: want an atomic put acknowledged by at least 2", res)
	}
	a.client.Close() // waits for the commits still in flight
	a.expectEverywhere("a", 0, []byte("1"))
	a.expectEverywhere("b", 0, []byte("2"))
	for i := range a.direct {
		if s := a.txState(i, res.TxID); s != provider.TxCommitted {
			t.Errorf("%s records the txid as %v, want committed", a.direct[i].Name(), s)
		}
	}
}

func TestAtomicConflictOnMinorityIsRepaired(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	// p2 misses version 0, so it refuses version 1 with a conflict.
	if err := a.provider(2).Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.client.Put(ctx, one("k", 0, "v0")); err != nil {
		t.Fatal(err)
	}
	if err := a.provider(2).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.client.Put(ctx, one("k", 1, "v1")); err != nil {
		t.Fatalf("put with a conflicting minority: %v", err)
	}
	a.client.Close()
	a.expectEverywhere("k", 1, []byte("v1"))
}

func TestAtomicConflictOnMajorityWritesNothing(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	// p1 and p2 already hold k at version 0; p0 does not.
	for _, i := range []int{1, 2} {
		if err := a.direct[i].Put(ctx, one("k", 0, "theirs")); err != nil {
			t.Fatal(err)
		}
	}
	a.client.test.txid = fixedTxID(0xa1)
	_, err := a.client.Put(ctx, one("k", 0, "mine"))
	var txErr *TxError
	if !errors.As(err, &txErr) || !errors.Is(err, ErrTxAborted) {
		t.Fatalf("err = %v, want a definite abort", err)
	}
	var conflict *provider.ConflictError
	if !errors.As(err, &conflict) {
		t.Errorf("err = %v, want the providers' conflicts inside", err)
	}
	if v, _ := a.holds(0, "k"); v != -1 {
		t.Errorf("p0, which prepared, shows k at version %d after the abort", v)
	}
	if s := a.txState(0, fixedTxID(0xa1)()); s != provider.TxAborted {
		t.Errorf("p0 records the txid as %v, want aborted", s)
	}
	// Nothing is left reserved: p0 takes a put of k again.
	if err := a.direct[0].Put(ctx, one("k", 0, "later")); err != nil {
		t.Errorf("p0 still refuses k after the abort: %v", err)
	}
}

func TestAtomicProviderDownDuringPrepare(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	a.provider(1).Cut()
	res, err := a.client.Put(ctx, one("k", 0, "v"))
	if err != nil {
		t.Fatalf("put with one provider down: %v", err)
	}
	if len(res.Acked) != 2 {
		t.Errorf("acked by %v, want the two providers up", res.Acked)
	}
	a.provider(1).Heal()
	if _, err := a.client.Repair(ctx, ""); err != nil {
		t.Fatal(err)
	}
	a.expectEverywhere("k", 0, []byte("v"))
}

func TestRecoverAbortsBelowQuorum(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	txid := fixedTxID(0xb2)()
	a.provider(1).Cut()
	a.provider(2).Cut()
	a.putUntil(stagePrepared, txid, one("k", 0, "v"))
	a.provider(1).Heal()
	a.provider(2).Heal()
	if s := a.txState(0, txid); s != provider.TxPrepared {
		t.Fatalf("p0 holds %v, want prepared", s)
	}

	report, err := a.newClient().Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Transactions) != 1 || report.Transactions[0].Decision != DecidedAbort || !report.Settled() {
		t.Fatalf("recovery %+v: want one transaction, aborted and settled", report)
	}
	for i := range a.direct {
		if s := a.txState(i, txid); s != provider.TxAborted {
			t.Errorf("%s holds %v, want aborted", a.direct[i].Name(), s)
		}
		if v, _ := a.holds(i, "k"); v != -1 {
			t.Errorf("%s shows k at version %d", a.direct[i].Name(), v)
		}
	}
	// A late prepare of the fenced txid is refused.
	late := a.direct[1].SealTx(txid, one("k", 0, "v"))
	if s, err := a.prepare(ctx, 1, txid, late); err != nil || s != provider.TxAborted {
		t.Errorf("late prepare = %v, %v; want refused as aborted", s, err)
	}
}

func TestRecoverCommitsAtQuorum(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	txid := fixedTxID(0xc3)()
	a.provider(2).Cut()
	a.putUntil(stageDecided, txid, one("k", 0, "v"))
	a.provider(2).Heal()
	a.waitState(0, txid, provider.TxPrepared)
	a.waitState(1, txid, provider.TxPrepared)
	if s := a.txState(2, txid); s != provider.TxUnknown {
		t.Fatalf("before recovery p2 holds %v, want no record", s)
	}
	report, err := a.newClient().Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Transactions) != 1 || report.Transactions[0].Decision != DecidedCommit || !report.Settled() {
		t.Fatalf("recovery %+v: want one transaction, committed and settled", report)
	}
	a.expectEverywhere("k", 0, []byte("v"))

	// Recover is idempotent: nothing is left to do.
	again, err := a.newClient().Recover(ctx)
	if err != nil || len(again.Transactions) != 0 {
		t.Errorf("second recovery = %+v, %v; want nothing pending", again, err)
	}
}

func TestRecoverCompletesLostCommits(t *testing.T) {
	a := startAtomicNet(t, 3)
	// Deterministic stored bytes, so the test can make the coordinator's proofs.
	a.client.cfg.DisableEncryption = true
	ctx := context.Background()
	txid := fixedTxID(0xd4)()
	a.putUntil(stageDecided, txid, one("k", 0, "v"))
	for i := range a.direct {
		a.waitState(i, txid, provider.TxPrepared)
	}
	// Only p0's commit arrived.
	if err := a.direct[0].Commit(ctx, txid, a.direct[0].CommitProofs(txid, a.client.sealTx(txid, one("k", 0, "v")))); err != nil {
		t.Fatal(err)
	}
	// A provider restarted while holding the transaction prepared keeps it.
	if err := a.provider(1).Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.provider(1).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if s := a.txState(1, txid); s != provider.TxPrepared {
		t.Fatalf("after restart p1 holds %v, want still prepared", s)
	}
	// Its reservation survived too.
	if err := a.direct[1].Put(ctx, one("k", 0, "other")); !errors.Is(err, provider.ErrConflict) {
		t.Fatalf("put on a key reserved across a restart: %v, want a conflict", err)
	}
	report, err := a.newClient().Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !report.Settled() || len(report.Transactions) != 1 || report.Transactions[0].Decision != DecidedCommit {
		t.Fatalf("recovery %+v: want the transaction committed", report)
	}
	a.expectEverywhere("k", 0, []byte("v"))
}

func TestAtomicFenceFindsLostPrepare(t *testing.T) {
	a := startAtomicNet(t, 3)
	// Deterministic stored bytes: p1 prepares exactly what the coordinator sends.
	a.client.cfg.DisableEncryption = true
	ctx := context.Background()
	txid := fixedTxID(0xe5)()
	entries := a.client.sealTx(txid, one("k", 0, "v"))
	// p1 prepared the transaction but its acknowledgement never reached the
	// coordinator: prepare it directly, then cut the coordinator's prepare.
	if s, err := a.prepare(ctx, 1, txid, entries); err != nil || s != provider.TxPrepared {
		t.Fatalf("prepare on p1: %v, %v", s, err)
	}
	// p2 refuses by the version rule, so only p0 prepares in the first round.
	if err := a.direct[2].Put(ctx, one("k", 0, "theirs")); err != nil {
		t.Fatal(err)
	}
	a.provider(1).Cut()
	a.client.test.txid = func() []byte { return txid }
	a.client.test.stop = func(s stage) bool {
		if s == stagePrepared {
			a.provider(1).Heal() // the fence gets through
		}
		return false
	}
	res, err := a.client.Put(ctx, one("k", 0, "v"))
	if err != nil {
		t.Fatalf("put: %v; want the fence to find p1 prepared and commit", err)
	}
	if len(res.Acked) < 2 {
		t.Errorf("acked by %v", res.Acked)
	}
	a.client.Close()
	for i := range 2 {
		if v, val := a.holds(i, "k"); v != 0 || string(val) != "v" {
			t.Errorf("%s holds k at %d (%q), want the committed value", a.direct[i].Name(), v, val)
		}
	}
}

func TestAtomicWithConcurrentRecoverNeverSplits(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	recovery := a.newClient()
	for round := range 6 {
		key := fmt.Sprintf("k%d", round)
		// Recover runs at a different point of each put: while prepares are out,
		// and between the decision and the commits.
		at := stage(round%2 + 1)
		if round%3 == 0 {
			a.provider(2).Cut()
		}
		a.client.test.stop = func(s stage) bool {
			if s == at {
				if _, err := recovery.Recover(ctx); err != nil {
					t.Errorf("recover: %v", err)
				}
			}
			return false
		}
		_, err := a.client.Put(ctx, one(key, 0, "v"))
		a.provider(2).Heal()
		if _, rerr := recovery.Recover(ctx); rerr != nil {
			t.Fatal(rerr)
		}
		// Settle late commits, then compare the providers.
		seen := map[int64]int{}
		for i := range a.direct {
			v, _ := a.holds(i, key)
			seen[v]++
		}
		switch {
		case err == nil && seen[0] < 2:
			t.Errorf("round %d: put succeeded but only %d providers hold it", round, seen[0])
		case errors.Is(err, ErrTxAborted) && seen[0] > 0:
			t.Errorf("round %d: put aborted but %d providers hold it", round, seen[0])
		}
	}
}

func TestAtomicMixedNetworkWeakensBaseOnly(t *testing.T) {
	a := startAtomicNet(t, 3, 2)
	ctx := context.Background()
	// A read finds out which providers speak only the base protocol.
	if _, err := a.client.Get(ctx, ""); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"first", "second"} {
		res, err := a.client.Put(ctx, one(key, 0, "v"))
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		if res.Mode != ModeAtomic || len(res.Weakened) != 1 || res.Weakened[0] != "p2" {
			t.Errorf("put %s: mode %v, weakened %v; want atomic with p2 named as weakened", key, res.Mode, res.Weakened)
		}
	}
	a.client.Close()
	a.expectEverywhere("first", 0, []byte("v"))
	a.expectEverywhere("second", 0, []byte("v"))
}

func TestAuditShowsPendingAndSplitTransactions(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	txid := fixedTxID(0xf6)()
	a.putUntil(stageDecided, txid, one("k", 0, "v"))
	for i := range a.direct {
		a.waitState(i, txid, provider.TxPrepared)
	}
	auditor := a.newClient()
	report, err := auditor.Audit(ctx, "", AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if report.Verdict != Disagree || len(report.Transactions) != 1 || report.Transactions[0].Decision != DecidedCommit {
		t.Fatalf("audit %+v: want one pending transaction decided commit", report)
	}
	if table := report.Table(); !strings.Contains(table, "pending") || !strings.Contains(table, "decided COMMITTED") {
		t.Errorf("table does not say the transaction is pending and decided:\n%s", table)
	}
	if _, err := auditor.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if report, err = auditor.Audit(ctx, "", AuditOptions{}); err != nil || report.Verdict != Agree {
		t.Fatalf("after recovery: %v\n%s", err, report.Table())
	}

	// A split can only come from a provider that forgot a fence; make one by hand.
	split := fixedTxID(0xf7)()
	es := a.direct[0].SealTx(split, one("s", 0, "v"))
	if _, err := a.prepare(ctx, 0, split, es); err != nil {
		t.Fatal(err)
	}
	if err := a.direct[0].Commit(ctx, split, a.direct[0].CommitProofs(split, es)); err != nil {
		t.Fatal(err)
	}
	// Fenced on the two others: enough to have decided it aborted.
	for _, i := range []int{1, 2} {
		if _, err := a.direct[i].Fence(ctx, split); err != nil {
			t.Fatal(err)
		}
	}
	report, err = auditor.Audit(ctx, "", AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Split) != 1 || !bytes.Equal(report.Split[0].TxID, split) || !strings.Contains(report.Table(), "SPLIT") {
		t.Errorf("audit does not report the split transaction:\n%s", report.Table())
	}
}

// TestRecoverDecidesWithTheRecordedQuorum: a recovery tool configured with
// another write quorum than the coordinator must still decide by the
// coordinator's thresholds, recorded with each prepare, or the two could reach
// opposite decisions.
func TestRecoverDecidesWithTheRecordedQuorum(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	txid := fixedTxID(0xa7)()
	a.provider(1).Cut()
	a.provider(2).Cut()
	a.putUntil(stagePrepared, txid, one("k", 0, "v"))
	a.provider(1).Heal()
	a.provider(2).Heal()
	txs, err := a.direct[0].Status(ctx)
	if err != nil || len(txs) != 1 || len(txs[0].Quorum.Participants) != 3 || txs[0].Quorum.W != 2 {
		t.Fatalf("p0's record: %+v, %v; want the quorum 2 of 3 recorded", txs, err)
	}
	for _, p := range a.net.Providers() {
		if !slices.ContainsFunc(txs[0].Quorum.Participants, func(id []byte) bool { return bytes.Equal(id, p.ServerID()) }) {
			t.Errorf("the recorded participants do not name %s", p.Name())
		}
	}

	// With W=1 of its own, this tool would call one prepare a commit.
	lenient := a.newClient()
	lenient.w = 1
	report, err := lenient.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Transactions) != 1 || report.Transactions[0].Decision != DecidedAbort || !report.Transactions[0].Recorded {
		t.Fatalf("recovery %+v: want the transaction aborted by the recorded quorum", report)
	}
	for i := range a.direct {
		if v, _ := a.holds(i, "k"); v != -1 {
			t.Errorf("%s shows k at version %d", a.direct[i].Name(), v)
		}
	}
}

// TestAtomicSameVersionOtherValueIsNotAnAck: a provider already holding the key's
// version with another value does not hold the write, so it must not count
// towards W.
func TestAtomicSameVersionOtherValueIsNotAnAck(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	if err := a.direct[2].Put(ctx, one("k", 0, "other")); err != nil {
		t.Fatal(err)
	}
	// p1 is slow, so p2's answer comes before p1's and would make the quorum
	// if it counted.
	a.provider(1).SetLatency(50 * time.Millisecond)
	res, err := a.client.Put(ctx, one("k", 0, "mine"))
	a.provider(1).SetLatency(0)
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := a.client.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.Acked, "p2") {
		t.Errorf("acked by %v: p2 holds another value at that version", res.Acked)
	}
	for i := range 2 {
		if v, val := a.holds(i, "k"); v != 0 || string(val) != "mine" {
			t.Errorf("%s holds k at %d (%q)", a.direct[i].Name(), v, val)
		}
	}
}

// TestAtomicAbortFencesSilentProviders: once aborted, a provider that never
// answered gets Abort too, so a Prepare still on its way cannot land and hold the
// keys.
func TestAtomicAbortFencesSilentProviders(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	for _, i := range []int{0, 1} {
		if err := a.direct[i].Put(ctx, one("k", 0, "theirs")); err != nil {
			t.Fatal(err)
		}
	}
	txid := fixedTxID(0xa8)()
	a.client.test.txid = func() []byte { return txid }
	a.provider(2).Cut()
	a.client.test.stop = func(s stage) bool {
		if s == stageDecided {
			a.provider(2).Heal()
		}
		return false
	}
	if _, err := a.client.Put(ctx, one("k", 0, "mine")); !errors.Is(err, ErrTxAborted) {
		t.Fatalf("err = %v, want a definite abort", err)
	}
	a.waitState(2, txid, provider.TxAborted)
	late := a.direct[2].SealTx(txid, one("k", 0, "mine"))
	if s, err := a.prepare(ctx, 2, txid, late); err != nil || s != provider.TxAborted {
		t.Errorf("late prepare on the silent provider = %v, %v; want refused as aborted", s, err)
	}
}

// TestRecoverCountsOnlyTheRecordedParticipants: a recovery that sees one more
// provider than the coordinator used (here one the coordinator took for a stock
// server) must not count that provider's fence towards an abort, or it could
// abort a transaction the coordinator decided committed.
func TestRecoverCountsOnlyTheRecordedParticipants(t *testing.T) {
	a := startAtomicNet(t, 4)
	ctx := context.Background()
	a.client.w, a.client.r = 2, 3
	a.client.members[3].stock = true // pinned as a stock server
	txid := fixedTxID(0xa9)()
	a.provider(2).Cut()
	a.putUntil(stageDecided, txid, one("k", 0, "v")) // p0 and p1 prepared: committed
	a.waitState(0, txid, provider.TxPrepared)
	a.waitState(1, txid, provider.TxPrepared)
	a.provider(2).Heal()
	a.provider(1).Cut()

	recovery := a.newClient()
	recovery.w, recovery.r = 2, 3
	report, err := recovery.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Transactions) != 1 || report.Transactions[0].Decision == DecidedAbort {
		t.Fatalf("recovery %+v: fences on p2 and p3 must not abort a transaction prepared on 2 of its 3 participants", report)
	}
	if s := a.txState(0, txid); s != provider.TxPrepared {
		t.Errorf("p0 holds %v, want still prepared", s)
	}

	a.provider(1).Heal()
	report, err = recovery.Recover(ctx)
	if err != nil || !report.Settled() || report.Transactions[0].Decision != DecidedCommit {
		t.Fatalf("recovery with p1 back: %+v, %v; want committed", report, err)
	}
	for i := range 2 {
		if v, _ := a.holds(i, "k"); v != 0 {
			t.Errorf("%s holds k at %d, want the committed version 0", a.direct[i].Name(), v)
		}
	}
}

// TestSettleCommitsALatePrepare: a provider whose own Prepare landed after the
// coordinator's Commit found nothing holds the keys reserved, so Restore keeps
// them; settling a committed transaction then commits it there.
func TestSettleCommitsALatePrepare(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	txid := fixedTxID(0xaa)()
	kvs := one("k", 0, "v")
	tx := &txRun{c: a.client, txid: txid, entries: a.client.sealTx(txid, kvs), kvs: kvs}
	if s, err := a.prepare(ctx, 0, txid, tx.entries); err != nil || s != provider.TxPrepared {
		t.Fatalf("prepare: %v, %v", s, err)
	}
	// Seen as holding no record, as if the Commit had come first.
	if err := tx.settleCommitted(ctx, a.client.members[0], TxNone); err != nil {
		t.Fatalf("settle: %v", err)
	}
	if s := a.txState(0, txid); s != provider.TxCommitted {
		t.Errorf("p0 holds %v, want committed", s)
	}
	if v, val := a.holds(0, "k"); v != 0 || string(val) != "v" {
		t.Errorf("p0 holds k at %d (%q)", v, val)
	}
}
