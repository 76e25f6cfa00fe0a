package lssd

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
)

func TestLimits(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits = Limits{MaxKeysPerPut: 3, MaxKeyLength: 8, MaxValueSize: 16, MaxMessageSize: 4096}
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())

	// Exactly at each limit is accepted.
	c.mustPut(kv("12345678", 0, strings.Repeat("v", 16)), kv("b", 0, ""), kv("c", 0, ""))

	id := txid(t)
	cases := []struct {
		name  string
		kvs   []*lsspb.KeyValue
		words []string
	}{
		{"too many keys", []*lsspb.KeyValue{kv("d", 0, ""), kv("e", 0, ""), kv("f", 0, ""), kv("g", 0, "")},
			[]string{"max keys per put", "3"}},
		{"key too long", []*lsspb.KeyValue{kv("123456789", 0, "")}, []string{"max key length", "8"}},
		{"value too large", []*lsspb.KeyValue{kv("d", 0, strings.Repeat("v", 17))}, []string{"max value size", "16"}},
	}
	for _, tc := range cases {
		_, err := c.rpc.Put(ctxT(t), c.putRequest(tc.kvs...))
		wantCode(t, "Put: "+tc.name, err, codes.InvalidArgument, tc.words...)
		_, err = c.rpc.Restore(ctxT(t), restoreRequest(c, tc.kvs...))
		wantCode(t, "Restore: "+tc.name, err, codes.InvalidArgument, tc.words...)
		_, err = c.rpc.Prepare(ctxT(t), &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: tc.kvs,
			Hmac: wire.PrepareRequestMAC(c.secret, id, tc.kvs, nil, 0, nil)})
		wantCode(t, "Prepare: "+tc.name, err, codes.InvalidArgument, tc.words...)
	}

	// A message over the size limit is refused by gRPC before it is decoded,
	// whichever RPC it is for.
	big := bytes.Repeat([]byte{1}, 5000)
	_, err := c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: big})
	wantCode(t, "Get: message too large", err, codes.ResourceExhausted, "4096")
	_, err = c.rpc.Put(ctxT(t), &lsspb.PutRequest{Auth: c.auth(), Kvs: []*lsspb.KeyValue{kv("d", 0, "")}, Hmac: big})
	wantCode(t, "Put: message too large", err, codes.ResourceExhausted, "4096")
	_, err = c.rpc.Restore(ctxT(t), &lsspb.RestoreRequest{Auth: c.auth(), Kvs: []*lsspb.KeyValue{kv("d", 0, "")}, Hmac: big})
	wantCode(t, "Restore: message too large", err, codes.ResourceExhausted, "4096")
	_, err = c.rpc.Prepare(ctxT(t), &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: []*lsspb.KeyValue{kv("d", 0, "")}, Seal: big})
	wantCode(t, "Prepare: message too large", err, codes.ResourceExhausted, "4096")
	_, err = c.rpc.Commit(ctxT(t), &lsspb.TxRequest{Auth: c.auth(), Txid: id, Proofs: [][]byte{big}})
	wantCode(t, "Commit: message too large", err, codes.ResourceExhausted, "4096")
	_, err = c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: big})
	wantCode(t, "Status: message too large", err, codes.ResourceExhausted, "4096")

	wantKVs(t, "nothing written", c.get(""),
		kv("12345678", 0, strings.Repeat("v", 16)), kv("b", 0, ""), kv("c", 0, ""))
	if txs := c.status(); len(txs) != 0 {
		t.Errorf("refused prepares left records: %v", txs)
	}
}

func TestNegativeLimitRefused(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxValueSize = -1
	if d, err := startNoCleanup(opts); err == nil {
		d.Kill()
		t.Fatal("Start accepted a negative limit")
	} else if !strings.Contains(err.Error(), "max value size") {
		t.Errorf("error %q does not name the limit", err)
	}
}

func TestDefaultLimits(t *testing.T) {
	l := Limits{}.withDefaults()
	if l != DefaultLimits() {
		t.Errorf("zero limits take %+v, want defaults %+v", l, DefaultLimits())
	}
	if l.MaxKeysPerPut != 1000 || l.MaxKeyLength != 1024 || l.MaxValueSize != 1<<20 || l.MaxMessageSize != 16<<20 {
		t.Errorf("defaults %+v", l)
	}
}

func TestKeyLimitMustFitBolt(t *testing.T) {
	t.Parallel()
	opts := boltOptions(t, t.TempDir())
	opts.Limits.MaxKeyLength = 40000
	if d, err := startNoCleanup(opts); err == nil {
		d.Kill()
		t.Fatal("Start accepted a key limit bolt cannot store")
	} else if !strings.Contains(err.Error(), "max key length") {
		t.Errorf("error %q does not name the limit", err)
	}
	// The largest key bolt stores goes through end to end.
	opts.Limits.MaxKeyLength = maxBoltKeyLength
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	long := strings.Repeat("k", maxBoltKeyLength)
	c.mustPut(kv(long, 0, "v"))
	wantKVs(t, "longest key", c.get(""), kv(long, 0, "v"))
}

func TestMaxReplySizeHolds(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxReplySize = 4096
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	big := strings.Repeat("v", 1000)
	c.mustPut(kv("a/1", 0, big), kv("a/2", 0, big), kv("b/1", 0, big), kv("b/2", 0, big), kv("b/3", 0, big))

	// Under the limit: answered in full.
	wantKVs(t, "prefix a/", c.get("a/"), kv("a/1", 0, big), kv("a/2", 0, big))
	if got := c.boundGet("b/"); len(got) != 3 {
		t.Errorf("BoundGet(b/) returned %d keys, want 3", len(got))
	}
	// Over it: refused whole, naming the limit and what to do.
	_, err := c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte{1}})
	wantCode(t, "Get of everything", err, codes.ResourceExhausted, "max reply size", "4096", "narrower prefixes")
	_, err = c.rpc.BoundGet(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte{1}})
	wantCode(t, "BoundGet of everything", err, codes.ResourceExhausted, "max reply size")

	// Status: prepared records holding big values count too.
	for i := range 4 {
		if _, err := c.prepare(txid(t), kv(fmt.Sprintf("p/%d", i), 0, big)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: []byte{1}})
	wantCode(t, "Status over the limit", err, codes.ResourceExhausted, "transaction records", "max reply size")
}
