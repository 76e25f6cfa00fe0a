package quorum

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/lssquorum/lss/provider"
)

// A counter ticked from many goroutines reports 0, 1, ..., total in order, one
// report at a time; without a func, nothing happens.
func TestProgressCounterReportsInOrder(t *testing.T) {
	var got []int
	inCall := false
	p := newProgress(func(r Progress) {
		if inCall {
			t.Error("two reports at once")
		}
		inCall = true
		got = append(got, r.Done)
		inCall = false
	})
	tick := p.counter("x", 50)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(tick)
	}
	wg.Wait()
	want := make([]int, 51)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Errorf("done counts %v, want 0..50 in order", got)
	}
	var none *progress
	none.counter("x", 3)()
	newProgress(nil).counter("x", 3)()
}

// RecoverWith and Audit with a repair tell their Progress func every step,
// ending each at its total, and the audit after the repair says so.
func TestRecoverAndAuditReportProgress(t *testing.T) {
	a := startAtomicNet(t, 3)
	ctx := context.Background()
	for i, b := range []byte{0xa1, 0xa2} {
		txid := fixedTxID(b)()
		entries := a.client.sealTx(txid, one(fmt.Sprintf("k%d", i), 0, "v"))
		if s, err := a.direct[1].Prepare(ctx, txid, provider.Quorum{}, nil, entries); err != nil || s != provider.TxPrepared {
			t.Fatalf("prepare on p1: %v, %v", s, err)
		}
	}
	var steps []string
	record := func(p Progress) { steps = append(steps, fmt.Sprintf("%s %d/%d", p.Step, p.Done, p.Total)) }
	report, err := a.newClient().RecoverWith(ctx, RecoverOptions{Progress: record})
	if err != nil || len(report.Transactions) != 2 {
		t.Fatalf("recovery %+v, %v: want two transactions", report, err)
	}
	want := []string{
		"reading transaction records 0/3", "reading transaction records 3/3",
		"settling transactions 0/2", "settling transactions 1/2", "settling transactions 2/2",
	}
	if !slices.Equal(steps, want) {
		t.Errorf("recovery progress:\n%q\nwant\n%q", steps, want)
	}

	steps = nil
	if _, err := a.client.Audit(ctx, "", AuditOptions{Repair: true, Progress: record}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"reading providers 0/3", "reading providers 3/3", "reading transaction records 3/3",
		"repairing providers 0/3", "repairing providers 3/3",
		"after repair: reading providers 3/3", "after repair: reading transaction records 3/3",
	} {
		if !slices.Contains(steps, w) {
			t.Errorf("audit progress %q lacks %q", steps, w)
		}
	}
	if i, j := slices.Index(steps, "repairing providers 3/3"), slices.Index(steps, "after repair: reading providers 0/3"); i < 0 || j < i {
		t.Errorf("audit progress %q: the audit after the repair does not follow it", steps)
	}
}
