package quorum

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lssquorum/lss/provider"
)

// openConfig is a configuration of a's network for a new process of the same
// client.
func (a *atomicNet) openConfig(timeout time.Duration) Config {
	var provs []ProviderConfig
	for _, p := range a.net.Providers() {
		provs = append(provs, ProviderConfig{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID(), Stock: p.BaseOnly()})
	}
	return Config{Providers: provs, ClientKey: a.key, Mode: ModeAtomic, Timeout: timeout,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// Opening a client settles what an earlier process left: here a put whose
// coordinator died after two providers prepared it, decided committed.
func TestOpenSettlesWhatAnEarlierProcessLeft(t *testing.T) {
	a := startAtomicNet(t, 3)
	txid := fixedTxID(0xb1)() // no timestamp: old
	a.putUntil(stageDecided, txid, one("k", 0, "v"))
	// Decided on the first two prepares; the others may still be landing.
	for i := range 2 {
		a.waitState(i, txid, provider.TxPrepared)
	}
	c, report, err := Open(context.Background(), a.openConfig(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if report == nil || len(report.Transactions) != 1 || !report.Settled() || report.Transactions[0].Decision != DecidedCommit {
		t.Fatalf("open report %+v: want the transaction recovered and committed", report)
	}
	for i := range 2 {
		if s := a.txState(i, txid); s != provider.TxCommitted {
			t.Errorf("%s holds the txid %v, want committed", a.direct[i].Name(), s)
		}
	}
}

// A transaction younger than a coordinator's deadline is left alone at Open (a
// live coordinator elsewhere may still be deciding it) and settled by the
// background settler once it is old, with no Recover call.
func TestOpenSettlesYoungTransactionsOnceOld(t *testing.T) {
	a := startAtomicNet(t, 3)
	txid := newTxID(time.Now())
	a.putUntil(stagePrepared, txid, one("k", 0, "v"))
	a.waitState(0, txid, provider.TxPrepared)
	timeout := 250 * time.Millisecond // a young window of one second
	c, report, err := Open(context.Background(), a.openConfig(timeout))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if report == nil || len(report.Young) != 1 || len(report.Transactions) != 0 {
		t.Fatalf("open report %+v: want the young transaction left alone", report)
	}
	if s := a.txState(0, txid); s != provider.TxPrepared {
		t.Fatalf("p0 holds %v right after Open, want still prepared", s)
	}
	deadline := time.Now().Add(15 * time.Second)
	for a.txState(0, txid) == provider.TxPrepared || a.txState(1, txid) == provider.TxPrepared || a.txState(2, txid) == provider.TxPrepared {
		if time.Now().After(deadline) {
			t.Fatal("the young transaction was never settled in the background")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
