package lssd

import (
	"strings"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
	"google.golang.org/grpc/codes"
)

// TestQuotasHold: over real gRPC, a Put or Prepare that would take a client over
// a quota is RESOURCE_EXHAUSTED naming the quota, its limit and the client's
// usage, and nothing of it is written; other clients keep their own quota.
func TestQuotasHold(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Quota = store.Quota{MaxKeys: 3, MaxBytes: 1000, MaxPending: 1}
	d := startDaemon(t, opts)
	rpc := dial(t, d.Addr())
	c := newClient(t, rpc, d.ServerID())
	big := strings.Repeat("v", 400)
	c.mustPut(kv("a", 0, big), kv("b", 0, big)) // 802 bytes

	_, err := c.rpc.Put(ctxT(t), c.putRequest(kv("c", 0, big)))
	wantCode(t, "Put over bytes", err, codes.ResourceExhausted, "bytes quota is 1000", "holds 802", "make it 1203")
	_, err = c.rpc.Put(ctxT(t), c.putRequest(kv("c", 0, ""), kv("d", 0, "")))
	wantCode(t, "Put over keys", err, codes.ResourceExhausted, "keys quota is 3", "holds 2", "make it 4")
	_, err = c.rpc.Restore(ctxT(t), restoreRequest(c, kv("c", 0, big)))
	wantCode(t, "Restore over bytes", err, codes.ResourceExhausted, "bytes quota is 1000", "holds 802", "make it 1203")
	_, err = c.rpc.Restore(ctxT(t), restoreRequest(c, kv("c", 0, ""), kv("d", 0, "")))
	wantCode(t, "Restore over keys", err, codes.ResourceExhausted, "keys quota is 3", "holds 2", "make it 4")
	_, err = c.prepare(txid(t), kv("c", 0, big))
	wantCode(t, "Prepare over bytes", err, codes.ResourceExhausted, "bytes quota is 1000", "holds 802", "make it 1203")
	wantKVs(t, "after refusals", c.get(""), kv("a", 0, big), kv("b", 0, big))
	if txs := c.status(); len(txs) != 0 {
		t.Fatalf("refused Prepare left records: %v", txs)
	}

	if _, err := c.prepare(txid(t), kv("c", 0, "")); err != nil {
		t.Fatalf("first Prepare: %v", err)
	}
	second := txid(t)
	_, err = c.prepare(second, kv("a", 1, ""))
	wantCode(t, "second Prepare", err, codes.ResourceExhausted, "pending transactions quota is 1", "holds 1", "make it 2")
	for _, tx := range c.status() {
		if string(tx.Txid) == string(second) {
			t.Fatal("refused Prepare left a record")
		}
	}
	// Key a is not reserved by the refused Prepare; shrinking it is allowed.
	c.mustPut(kv("a", 1, ""))

	other := newClient(t, rpc, d.ServerID())
	other.mustPut(kv("a", 0, big), kv("b", 0, big))
}
