package quorum

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/testnet"
)

// TestListingsLargerThanAPage: with every server paging BoundGet and Status by
// 2, the quorum client reads a namespace of many pages whole (Get, Audit), and
// Transactions and Recover see every one of many transaction records, settling
// the prepared ones that sort on later pages.
func TestListingsLargerThanAPage(t *testing.T) {
	a := startAtomicNetConfig(t, testnet.Config{N: 3, MaxPageItems: 2})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Four committed transactions and one of seven keys: 11 keys, 5 records.
	for i := range 4 {
		if _, err := a.client.Put(ctx, one(fmt.Sprintf("a/%d", i), 0, "v")); err != nil {
			t.Fatal(err)
		}
	}
	var seven []provider.KV
	for i := range 7 {
		seven = append(seven, provider.KV{Key: fmt.Sprintf("b/%d", i), Version: 0, Value: []byte("w")})
	}
	if _, err := a.client.Put(ctx, seven); err != nil {
		t.Fatal(err)
	}
	// The third provider's commits may still be on their way.
	if err := a.client.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := a.client.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 11 {
		t.Fatalf("Get: %d entries, want 11", len(res.Entries))
	}
	for _, p := range res.Providers {
		if p.Status != UpToDate || p.Keys != 11 {
			t.Errorf("Get: %s is %v with %d keys, want up to date with 11", p.Name, p.Status, p.Keys)
		}
	}

	// Five transactions stranded prepared on every provider by a coordinator
	// that stopped: with the five committed ones, 10 records, 5 pages each.
	a.client.cfg.DisableEncryption = true
	var txids [][]byte
	for i := range 5 {
		txid := a.client.newTxID()
		es := a.client.sealTx(txid, one(fmt.Sprintf("c/%d", i), 0, "x"))
		for p := range a.direct {
			if s, err := a.prepare(ctx, p, txid, es); err != nil || s != provider.TxPrepared {
				t.Fatalf("prepare %d on %s: %v, %v", i, a.direct[p].Name(), s, err)
			}
		}
		txids = append(txids, txid)
	}
	for _, d := range a.direct {
		txs, err := d.Status(ctx)
		if err != nil || len(txs) != 10 {
			t.Fatalf("%s: Status has %d records, %v; want 10", d.Name(), len(txs), err)
		}
	}
	read, err := a.client.Transactions(ctx)
	if err != nil || len(read.Unreachable) > 0 {
		t.Fatalf("Transactions: %v, unreachable %v", err, read.Unreachable)
	}
	if len(read.Pending) != 5 {
		t.Fatalf("Transactions lists %d pending, want the 5 stranded", len(read.Pending))
	}
	rec, err := a.client.Recover(ctx)
	if err != nil || !rec.Settled() || len(rec.Transactions) != 5 {
		t.Fatalf("Recover: %d transactions, settled %v, %v; want 5 settled", len(rec.Transactions), rec.Settled(), err)
	}
	audit, err := a.client.Audit(ctx, "", AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if audit.Keys != 16 || audit.Valid != 3 {
		t.Fatalf("Audit: %d keys from %d valid providers, want 16 from 3", audit.Keys, audit.Valid)
	}
}
