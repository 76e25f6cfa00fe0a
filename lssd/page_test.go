package lssd

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// boundGetPages follows a paged BoundGet of prefix to its end, checking every
// page's MAC, its size against max and that it advances.
func (c *client) boundGetPages(prefix string, limit int32, max int) (kvs []*lsspb.KeyValue, pages int) {
	c.t.Helper()
	var after *string
	for ; ; pages++ {
		reply := c.boundGetPage(prefix, after, limit)
		if len(reply.Kvs) > max || reply.More && len(reply.Kvs) == 0 {
			c.t.Fatalf("BoundGet(%q) page %d: %d keys (max %d), more %v", prefix, pages, len(reply.Kvs), max, reply.More)
		}
		kvs = append(kvs, reply.Kvs...)
		if !reply.More {
			return kvs, pages + 1
		}
		after = proto.String(reply.Kvs[len(reply.Kvs)-1].Key)
	}
}

// boundGetPage reads one page of a paged BoundGet and checks its MAC.
func (c *client) boundGetPage(prefix string, after *string, limit int32) *lsspb.GetReply {
	c.t.Helper()
	nonce := []byte(fmt.Sprintf("nonce after %v", after))
	reply, err := c.rpc.BoundGet(ctxT(c.t), &lsspb.GetRequest{Auth: c.auth(), KeyPrefix: prefix, Nonce: nonce,
		PageLimit: limit, StartAfter: after})
	if err != nil {
		c.t.Fatalf("BoundGet(%q) page after %v: %v", prefix, after, err)
	}
	if !bytes.Equal(reply.Hmac, wire.BoundGetPageReplyMAC(c.secret, prefix, nonce, after, limit, reply.Kvs, reply.More, reply.Generation)) {
		c.t.Fatalf("BoundGet(%q) page after %v: reply MAC does not verify", prefix, after)
	}
	return reply
}

// TestPagedBoundGetGeneration: every page of a paged BoundGet carries the
// generation it was read at (16 bytes, covered by the page MAC): the same for
// pages read with no write between them, another after a Put, a Prepare, a
// Commit or a Fence of the client, and the same again after another client's
// write and after reads.
func TestPagedBoundGetGeneration(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxPageItems = 2
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	other := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k/0", 0, "v"), kv("k/1", 0, "v"), kv("k/2", 0, "v"))
	first := c.boundGetPage("k/", nil, 2)
	if len(first.Generation) != 16 || !first.More {
		t.Fatalf("first page: generation %x, more %v; want 16 bytes and more", first.Generation, first.More)
	}
	gen := first.Generation
	same := func(what string, want bool) {
		t.Helper()
		g := c.boundGetPage("k/", proto.String("k/1"), 2).Generation
		if bytes.Equal(g, gen) != want {
			t.Fatalf("%s: generation %x, was %x; want the same = %v", what, g, gen, want)
		}
		gen = g
	}
	same("second page, nothing written", true)
	other.mustPut(kv("k/9", 0, "other"))
	c.boundGetPages("k/", 2, 2)
	same("another client's write and reads", true)
	c.mustPut(kv("k/3", 0, "v"))
	same("Put", false)
	txid := bytes.Repeat([]byte{0x42}, 16)
	for _, step := range []struct {
		name string
		do   func() (*lsspb.TxReply, error)
	}{
		{"Prepare", func() (*lsspb.TxReply, error) { return c.prepare(txid, kv("k/4", 0, "v")) }},
		{"Commit", func() (*lsspb.TxReply, error) { return c.tx(commitCall, txid) }},
		{"Fence", func() (*lsspb.TxReply, error) { return c.tx(fenceCall, bytes.Repeat([]byte{0x43}, 16)) }},
	} {
		if _, err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		same(step.name, false)
	}
}

// TestPagedBoundGet: a paged BoundGet returns the namespace in pages of at most
// --max-page-items keys (whatever the client asks) and within the max reply
// size, each under a MAC that binds the start, limit and "more"; followed to
// the end it is exactly the unpaged listing, without the server's own mode key.
func TestPagedBoundGet(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxPageItems = 3
	opts.Limits.MaxReplySize = 4096
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	var want []*lsspb.KeyValue
	for i := range 10 {
		want = append(want, kv(fmt.Sprintf("k/%02d", i), 0, "v"))
	}
	c.mustPut(append([]*lsspb.KeyValue{kv("", 0, "empty key")}, want...)...)
	if err := c.setExtensionOnly(); err != nil {
		t.Fatal(err)
	}

	got, pages := c.boundGetPages("k/", 100, 3)
	wantKVs(t, "pages of k/ asking 100", got, want...)
	if pages != 4 {
		t.Errorf("%d pages of at most 3 for 10 keys, want 4", pages)
	}
	got, pages = c.boundGetPages("k/", 1, 1)
	wantKVs(t, "pages of k/ one by one", got, want...)
	if pages != 10 {
		t.Errorf("%d pages of 1 for 10 keys, want 10", pages)
	}
	// From the start: the empty key comes first; after it, it does not.
	all, _ := c.boundGetPages("", 2, 2)
	if len(all) != 11 || all[0].Key != "" {
		t.Fatalf("whole namespace in pages: %d keys, first %q; want 11 from the empty key", len(all), all[0].GetKey())
	}
	reply, err := c.rpc.BoundGet(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte{1}, PageLimit: 1, StartAfter: proto.String("")})
	if err != nil || len(reply.Kvs) != 1 || reply.Kvs[0].Key != "k/00" {
		t.Fatalf("page after the empty key: %v, %v; want k/00", reply.GetKvs(), err)
	}

	// Pages end before the max reply size: 1000-byte values, 4096 bytes a page.
	big := strings.Repeat("v", 1000)
	var bigs []*lsspb.KeyValue
	for i := range 7 {
		bigs = append(bigs, kv(fmt.Sprintf("b/%d", i), 0, big))
	}
	// The namespace is extension-only now: write through Restore.
	restore := &lsspb.RestoreRequest{Auth: c.auth(), Kvs: bigs, Hmac: wire.RestoreRequestMAC(c.secret, bigs)}
	if _, err := c.rpc.Restore(ctxT(t), restore); err != nil {
		t.Fatal(err)
	}
	got, pages = c.boundGetPages("b/", 3, 3)
	wantKVs(t, "pages of big values", got, bigs...)
	if pages != 3 { // 3 keys of ~1 KB fit in 4,096 bytes: the count ends each page
		t.Errorf("%d pages of big values, want 3", pages)
	}
	_, err = c.rpc.BoundGet(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), KeyPrefix: "b/", Nonce: []byte{1}})
	wantCode(t, "unpaged BoundGet over the max reply size", err, codes.ResourceExhausted, "max reply size", "page_limit")
}

// TestPagedBoundGetPagesEndAtThePageSize: with room for 3 keys a page by count
// but only 2 by size (--max-page-size), pages hold 2.
func TestPagedBoundGetPagesEndAtThePageSize(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxPageSize = 2500
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	big := strings.Repeat("v", 1000)
	var want []*lsspb.KeyValue
	for i := range 5 {
		want = append(want, kv(fmt.Sprintf("b/%d", i), 0, big))
	}
	c.mustPut(want...)
	got, pages := c.boundGetPages("", 3, 2)
	wantKVs(t, "pages", got, want...)
	if pages != 3 {
		t.Errorf("%d pages, want 3 of at most 2 keys", pages)
	}
}

// TestPagingRequestsRefused: a negative page limit, a start without a limit, and
// paging fields on the base Get are INVALID_ARGUMENT.
func TestPagingRequestsRefused(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, testOptions(t))
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("a", 0, "v"))
	for name, call := range map[string]func() error{
		"BoundGet with negative page_limit": func() error {
			_, err := c.rpc.BoundGet(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte{1}, PageLimit: -1})
			return err
		},
		"BoundGet with start_after and no page_limit": func() error {
			_, err := c.rpc.BoundGet(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte{1}, StartAfter: proto.String("a")})
			return err
		},
		"Get with page_limit": func() error {
			_, err := c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte{1}, PageLimit: 5})
			return err
		},
		"Get with start_after": func() error {
			_, err := c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte{1}, StartAfter: proto.String("")})
			return err
		},
		"Get with a negative page_limit": func() error {
			_, err := c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte{1}, PageLimit: -1})
			return err
		},
		"Status with negative page_limit": func() error {
			_, err := c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: []byte{1}, PageLimit: -2})
			return err
		},
		"Status with start_after and no page_limit": func() error {
			_, err := c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: []byte{1}, StartAfter: []byte("x")})
			return err
		},
	} {
		wantCode(t, name, call(), codes.InvalidArgument, "page_limit")
	}
}

// TestPagedStatus: a paged Status returns every record, in pages of at most
// --max-page-items, each under a MAC binding the start, limit and "more".
func TestPagedStatus(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxPageItems = 2
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	for i := range 7 {
		if _, err := c.prepare(txid(t), kv(fmt.Sprintf("p/%d", i), 0, "v")); err != nil {
			t.Fatal(err)
		}
	}
	all := c.status()
	if len(all) != 7 {
		t.Fatalf("unpaged Status: %d records, want 7", len(all))
	}
	var got []*lsspb.Transaction
	var after []byte
	pages := 0
	for ; ; pages++ {
		nonce := []byte(fmt.Sprintf("nonce %d", pages))
		reply, err := c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: nonce, StartAfter: after, PageLimit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(reply.Hmac, wire.StatusPageReplyMAC(c.secret, nonce, after, 50, reply.Transactions, reply.More)) {
			t.Fatalf("page %d: reply MAC does not verify", pages)
		}
		if len(reply.Transactions) > 2 || reply.More && len(reply.Transactions) == 0 {
			t.Fatalf("page %d: %d records, more %v", pages, len(reply.Transactions), reply.More)
		}
		got = append(got, reply.Transactions...)
		if !reply.More {
			break
		}
		after = reply.Transactions[len(reply.Transactions)-1].Txid
	}
	if pages+1 != 4 || len(got) != 7 {
		t.Fatalf("%d pages, %d records; want 4 pages, 7 records", pages+1, len(got))
	}
	for i := range got {
		if !proto.Equal(got[i], all[i]) {
			t.Fatalf("record %d differs from the unpaged Status", i)
		}
	}
}
