package quorum_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// Close with an undecided transaction in the settler while two providers never
// answer: the settler's background recovery is at work when Close comes, and
// Close still returns within its documented bound (one call timeout for the
// last attempt, plus slack for a loaded machine), logs the transaction as left
// for recovery and leaves nothing running. Not parallel: it counts goroutines.
func TestCloseWithAnUndecidedTransactionIsBounded(t *testing.T) {
	net := startNet(t, 3)
	ps := net.Providers()
	var logs syncBuffer
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.SettleDeadline = time.Hour
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	put(t, c, kv("warm", 0, "x")) // connections established
	ps[1].Blackhole()
	ps[2].Blackhole()
	defer ps[1].Heal()
	defer ps[2].Heal()
	_, err := c.Put(testCtx(t), []provider.KV{kv("k", 0, "v")})
	var txErr *quorum.TxError
	if !errors.As(err, &txErr) || !txErr.Indeterminate || txErr.Decision != quorum.Undecided {
		t.Fatalf("put with two providers blackholed: %v, want undecided", err)
	}
	// The settler's first recovery starts 50 ms after the hand-off and waits
	// for the blackholed providers: Close comes while it is at work.
	time.Sleep(callTimeout / 2)
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > callTimeout+time.Second {
		t.Errorf("Close took %v, want at most one call timeout (%v) and some slack", took, callTimeout)
	}
	if !strings.Contains(logs.String(), "left for recovery") {
		t.Errorf("the undecided transaction was not logged as left for recovery:\n%s", logs.String())
	}
	if left := quorumGoroutines(); len(left) > 0 {
		t.Errorf("%d goroutines of the quorum package still running after Close:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}
