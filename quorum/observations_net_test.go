package quorum_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
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

	ps[1].Cut()
	_, err := c.Put(ctx, []provider.KV{kv("k", 0, "v")})
	if !errors.Is(err, quorum.ErrIndeterminate) {
		t.Fatalf("put with p1 cut: %v, want indeterminate (p1 may have prepared)", err)
	}
	txs, _, err := c.Transactions(ctx)
	if err != nil || len(txs) != 1 {
		t.Fatalf("transactions: %+v, %v", txs, err)
	}
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
	wantEntries(t, get(t, c, ""), "k@0=w")
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
