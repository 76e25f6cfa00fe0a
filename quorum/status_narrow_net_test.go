package quorum_test

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/quorum"
)

// A provider keeps decided records for days, one per put. Opening a client
// settles what an earlier process left by reading the prepared transactions
// and their records only, not every record a provider keeps
// (docs/protocol.md, "Narrowed Status"); audit still reads them all.
func TestOpenReadsOnlyThePendingRecords(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	f := startCraftedNet(t, kv("base", 0, "b"))
	const puts = 30
	w := newClient(t, f.net, f.key, plaintext)
	for i := range puts {
		put(t, w, kv(fmt.Sprintf("k%d", i), 0, "v"))
	}
	settle(t, w)
	// A put an earlier process left prepared on two providers: decided
	// committed, still to settle.
	x := craftTx(t, f.cls[0], participants(f.net, 2), kv("x", 0, "x0"))
	x.prepare(t, ctx, f.cls[0])
	x.prepare(t, ctx, f.cls[1])

	m := startMITM(t, f.ps[0].Addr())
	var listed atomic.Int64
	m.rewrite(func(method string, _, rep proto.Message) proto.Message {
		if r, ok := rep.(*lsspb.StatusReply); ok {
			listed.Add(int64(len(r.GetTransactions())))
		}
		return rep
	})
	cfg := quorum.HarnessConfig(f.net, f.key, plaintext)
	cfg.Providers[0].Addr = m.addr
	cfg.Logger = slog.New(slog.DiscardHandler)
	c, report, err := quorum.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if report == nil || len(report.Transactions) != 1 || !report.Transactions[0].Settled ||
		report.Transactions[0].Decision != quorum.DecidedCommit {
		t.Fatalf("open: %+v, want the left transaction settled committed", report)
	}
	wantIdentical(t, f.net, f.key, "x", "x@0=x0")
	// One prepared record in the first round, its record in the second.
	if n := listed.Load(); n != 2 {
		t.Errorf("opening read %d transaction records from %s, want 2 (it holds %d)", n, f.ps[0].Name(), puts+2)
	}

	listed.Store(0)
	if _, err := c.Audit(ctx, "", quorum.AuditOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := listed.Load(); n < puts+2 {
		t.Errorf("audit read %d transaction records from %s, want all %d", n, f.ps[0].Name(), puts+2)
	}
}
