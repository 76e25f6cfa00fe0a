package quorum_test

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
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
	"google.golang.org/grpc/codes"
)

// Issue 9, observation 6: a network attacker answering the prefix-bound Get and
// Prepare with UNIMPLEMENTED (a status code nothing authenticates) must not
// downgrade the client. The provider is pinned as speaking the extension, so the
// answer makes it faulty: reads never fall back to the base Get, and puts stay
// atomic with the attacked provider out of the count, never weakened.
func TestObservation6UnimplementedDoesNotDowngrade(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	key := newKey(t)
	attacker := startMITM(t, net.Providers()[2].Addr())
	attacker.refuseWithUnimplemented("BoundGet", "Prepare", "Status", "Restore")
	c := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAuto
		cfg.Providers[2].Addr = attacker.addr
	})

	for v := range int64(2) {
		res := put(t, c, kv("a", v, "x"), kv("b", v, "y"))
		if res.Mode != quorum.ModeAtomic {
			t.Fatalf("put %d: mode %v, want the atomic commit whatever the network answers", v, res.Mode)
		}
		if len(res.Weakened) != 0 || slices.Contains(res.Acked, "p2") {
			t.Fatalf("put %d: %+v: p2 must neither be weakened to a plain put nor count as holding the write", v, res)
		}
		res2 := get(t, c, "")
		wantEntries(t, res2, fmt.Sprintf("a@%d=x", v), fmt.Sprintf("b@%d=y", v))
		if s := state(t, res2, "p2"); s.Status != quorum.Faulty {
			t.Errorf("get: p2 is %v (%v), want faulty: it answered the prefix-bound Get with UNIMPLEMENTED", s.Status, s.Err)
		}
	}
}

// Issue 9, observation 5: only providers pinned as speaking the extension take
// part in a transaction, so a stock provider is never recorded as a participant
// and a put left undecided by a cut provider is settled once that provider
// answers again: its keys do not stay reserved.
func TestObservation5StockProviderIsNeverAParticipant(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3, 2)
	key := newKey(t)
	c := newClient(t, net, key, func(cfg *quorum.Config) { cfg.Mode = quorum.ModeAtomic })
	ps := net.Providers()

	put(t, c, kv("j", 0, "connections up")) // so the cut hits a prepare in flight
	ps[1].Cut()
	_, err := c.Put(ctx, []provider.KV{kv("k", 0, "v")})
	if !errors.Is(err, quorum.ErrIndeterminate) {
		t.Fatalf("put with p1 cut: %v, want indeterminate (p1 may have prepared)", err)
	}
	read, err := c.Transactions(ctx)
	if err != nil || len(read.Pending) != 1 {
		t.Fatalf("transactions: %+v, %v", read, err)
	}
	txs := read.Pending
	if got := txs[0].Counted; !slices.Equal(got, []string{"p0", "p1"}) || txs[0].N != 2 {
		t.Errorf("counted %v of N=%d, want the two extension providers p0 and p1", got, txs[0].N)
	}

	ps[1].Heal()
	if _, err := c.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing is left reserved: the same key can be written at once.
	put(t, c, kv("k", 0, "w"))
	settle(t, c)
	wantEntries(t, get(t, c, ""), "j@0=connections up", "k@0=w")
}

// Atomic mode is refused, with a clear error, when fewer than W providers are
// pinned as speaking the extension.
func TestAtomicModeNeedsWExtensionProviders(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3, 1, 2)
	cfg := quorum.Config{Providers: pinned(net), ClientKey: newKey(t), Mode: quorum.ModeAtomic}
	_, err := quorum.New(testCtx(t), cfg)
	if !errors.Is(err, quorum.ErrConfig) || !strings.Contains(err.Error(), "needs W=2 providers that speak the extension, but only 1") {
		t.Fatalf("New = %v, want a configuration error naming W and the extension providers", err)
	}
}

// preparedOn counts the transactions provider p holds prepared for the client.
func preparedOn(t *testing.T, p *testnet.Provider, key *secp256k1.PrivateKey) int {
	t.Helper()
	ctx := testCtx(t)
	cl, err := provider.Dial(ctx, provider.Options{Addr: p.Addr(), Name: p.Name(), ServerID: p.ServerID(), ClientKey: key, DialTimeout: callTimeout,
		Format: provider.FormatQuorum, Extension: !p.BaseOnly()})
	if err != nil {
		t.Fatalf("dial %s: %v", p.Name(), err)
	}
	defer cl.Close()
	txs, err := cl.Status(ctx)
	if err != nil {
		t.Fatalf("status of %s: %v", p.Name(), err)
	}
	n := 0
	for _, tx := range txs {
		if tx.State == provider.TxPrepared {
			n++
		}
	}
	return n
}

// eventually polls cond every 50 ms for up to 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 15 s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Issue 9, observation 4: a Commit that fails after the put returned success
// (connection cut) is retried in the background, with no Recover run, until the
// provider holds the write and no key stays reserved.
func TestObservation4FailedCommitIsRetried(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	key := newKey(t)
	c, cut := atomicThrough(t, net, key, 2)
	cut.failWith(codes.Unavailable, "Commit")
	put(t, c, kv("a", 0, "x"), kv("b", 0, "y"))
	// The put returned at W commits: p2's Prepare may still be on its way.
	eventually(t, "p2 holds prepared the put whose Commit was cut", func() bool {
		return preparedOn(t, net.Providers()[2], key) == 1
	})
	cut.heal()
	eventually(t, "p2 commits the put in the background", func() bool {
		return preparedOn(t, net.Providers()[2], key) == 0 &&
			slices.Equal(render(direct(t, net.Providers()[2], key, "")), []string{"a@0=x", "b@0=y"})
	})
}

// Issue 9, observation 4: a put of the same keys flushes the commit left
// pending on a provider first, so that provider takes part in the next put
// instead of refusing it for a stale reservation.
func TestObservation4PendingCommitIsFlushedBeforeThePut(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	key := newKey(t)
	c, cut := atomicThrough(t, net, key, 2, func(cfg *quorum.Config) {
		cfg.SettleDeadline = time.Hour // only the flush may settle it in time
	})
	cut.failWith(codes.Unavailable, "Commit")
	for i := range 3 {
		put(t, c, kv("k", int64(i), "v"))
	}
	cut.heal()
	res := put(t, c, kv("k", 3, "w"))
	settle(t, c)
	if _, failed := res.Failed["p2"]; failed {
		t.Errorf("p2 refused the put after its pending commits were flushed: %v", res.Failed["p2"])
	}
	if got := render(direct(t, net.Providers()[2], key, "")); !slices.Equal(got, []string{"k@3=w"}) {
		t.Errorf("p2 holds %v, want k@3=w", got)
	}
	for _, p := range net.Providers() {
		if n := preparedOn(t, p, key); n != 0 {
			t.Errorf("%s holds %d transactions prepared after settling", p.Name(), n)
		}
	}
}

// Issue 9, observation 1: a provider that keeps the sealed entries it was sent
// in an aborted Prepare and later writes them into its own database cannot
// resurrect the put: the entries carry no commit proof (the client made none,
// the put was aborted), so Get never returns them and Repair never copies them.
func TestObservation1KeptPrepareIsNeverReturned(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	key := newKey(t)
	liar := startMITM(t, net.Providers()[2].Addr())
	kept := liar.keepPrepares()
	c := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[2].Addr = liar.addr
		// Plaintext, so that the test's direct writes read back.
		cfg.DisableEncryption = true
	})
	put(t, c, kv("k", 0, "v0"))
	settle(t, c)
	// p0 and p1 refuse the next put by the version rule: a definite abort.
	putDirectly(testCtx(t), t, net.Providers()[:2], key, kv("k", 1, "someone else"))
	if _, err := c.Put(testCtx(t), []provider.KV{kv("k", 1, "aborted")}); !errors.Is(err, quorum.ErrTxAborted) {
		t.Fatalf("put: %v, want a definite abort", err)
	}
	// p2 writes what it kept into its own database, at a higher version.
	req := kept.latest()
	if req == nil || len(req.GetKvs()) != 1 {
		t.Fatalf("the liar kept %v", req)
	}
	cl := dialQuorum(t, net.Providers()[2], key)
	defer cl.Close()
	e := provider.Entry{Key: "k", Version: 1, Stored: req.GetKvs()[0].GetValue(), TxID: req.GetTxid()}
	if _, _, err := cl.Restore(testCtx(t), []provider.Entry{e}); err != nil {
		t.Fatalf("restore of the kept value on p2: %v", err)
	}
	if got := direct(t, net.Providers()[2], key, "k"); len(got) != 1 || !bytes.Equal(got[0].Value, []byte("aborted")) || got[0].Certified {
		t.Fatalf("p2 holds %v, want the aborted value, uncertified", render(got))
	}
	res := get(t, c, "k")
	if v, ok := res.Value("k"); ok && bytes.Contains(v.Value, []byte("aborted")) {
		t.Fatalf("Get returned the aborted value from p2: %s", render(res.Entries))
	}
	if _, err := c.Repair(testCtx(t), ""); err != nil {
		t.Logf("repair: %v", err)
	}
	for _, p := range net.Providers()[:2] {
		for _, e := range direct(t, p, key, "k") {
			if bytes.Contains(e.Value, []byte("aborted")) {
				t.Errorf("repair copied the aborted value onto %s", p.Name())
			}
		}
	}
}

// dialQuorum is a provider client in the quorum format, as the quorum uses.
func dialQuorum(t *testing.T, p *testnet.Provider, key *secp256k1.PrivateKey) *provider.Client {
	t.Helper()
	cl, err := provider.Dial(testCtx(t), provider.Options{Addr: p.Addr(), Name: p.Name(), ServerID: p.ServerID(), ClientKey: key,
		DialTimeout: callTimeout, Format: provider.FormatQuorum, Extension: !p.BaseOnly()})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// putDirectly puts kvs on each of ps with a plain provider client of key, past
// the quorum client: a put of the same keys and versions through the quorum is
// then refused there by the version rule.
func putDirectly(ctx context.Context, t *testing.T, ps []*testnet.Provider, key *secp256k1.PrivateKey, kvs ...provider.KV) {
	t.Helper()
	for _, p := range ps {
		cl := dialQuorum(t, p, key)
		if err := cl.Put(ctx, kvs); err != nil {
			t.Fatal(err)
		}
		cl.Close()
	}
}
