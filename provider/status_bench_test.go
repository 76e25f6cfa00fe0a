package provider

import (
	"context"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/lssquorum/lss/lssd"
)

// BenchmarkStatusWithHistory compares what recovery reads from a provider (on
// bolt) that holds 20,000 decided records and 2 prepared transactions: the whole
// listing, which recovery read before Status could be narrowed, against the
// prepared transactions then their records, which it reads now. Compare the
// sub-benchmarks' ns/op within one run.
func BenchmarkStatusWithHistory(b *testing.B) {
	const history = 20000
	d := startServer(b, false, func(o *lssd.Options) { o.Database = "bolt" })
	c := dialOpts(b, Options{Addr: d.Addr(), ServerID: d.ServerID(), ClientKey: newKey(b), Extension: true})
	ctx := context.Background()
	var g errgroup.Group
	g.SetLimit(32)
	for range history {
		id := txid(b)
		g.Go(func() error { _, err := c.Fence(ctx, id); return err })
	}
	for _, key := range []string{"a", "b"} {
		if _, err := c.Prepare(ctx, txid(b), Quorum{}, nil, c.Seal([]KV{{Key: key, Value: []byte(key)}})); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			if txs, err := c.Status(ctx); err != nil || len(txs) != history+2 {
				b.Fatalf("Status: %d records, %v", len(txs), err)
			}
		}
	})
	b.Run("pending-then-their-records", func(b *testing.B) {
		for b.Loop() {
			txs, err := c.PendingStatus(ctx)
			if err != nil || len(txs) != 2 {
				b.Fatalf("PendingStatus: %d records, %v", len(txs), err)
			}
			if txs, err = c.StatusOf(ctx, [][]byte{txs[0].TxID, txs[1].TxID}); err != nil || len(txs) != 2 {
				b.Fatalf("StatusOf: %d records, %v", len(txs), err)
			}
		}
	})
}
