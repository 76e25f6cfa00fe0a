package provider

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// pagedServer is an lssd that pages BoundGet and Status by 3, holding 10 keys
// and 7 prepared transactions for a client, behind a tampering proxy.
func pagedServer(t *testing.T) (d *lssd.Daemon, p *tamperProxy, key *secp256k1.PrivateKey, keys []string) {
	t.Helper()
	d = startServer(t, false, func(o *lssd.Options) { o.Limits.MaxPageItems = 3 })
	key = newKey(t)
	c := dialT(t, d.Addr(), d.ServerID(), key, false)
	var kvs []KV
	for i := range 10 {
		kvs = append(kvs, KV{Key: fmt.Sprintf("k/%02d", i), Value: []byte("v")})
		keys = append(keys, kvs[i].Key)
	}
	if err := c.Put(ctxT(t), kvs); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if _, err := c.Prepare(ctxT(t), txid(t), Quorum{}, nil, c.Seal([]KV{{Key: fmt.Sprintf("p/%d", i)}})); err != nil {
			t.Fatal(err)
		}
	}
	return d, startProxy(t, d.Addr(), false), key, keys
}

// TestGetAndStatusFollowPages: Get and Status return whole listings from a
// server that pages them by 3, whether the client asks pages smaller or larger
// than the server's cap, and ask no more pages than needed.
func TestGetAndStatusFollowPages(t *testing.T) {
	t.Parallel()
	d, p, key, keys := pagedServer(t)
	for _, items := range []int32{2, 3, 50} {
		pages := map[string]int{}
		p.setRequest(func(method string, _ proto.Message) { pages[method]++ })
		c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Extension: true, PageItems: items})
		es, err := c.Get(ctxT(t), "k/")
		if err != nil {
			t.Fatalf("pages of %d: Get: %v", items, err)
		}
		if got := strings.Join(keysOf(es), " "); got != strings.Join(keys, " ") {
			t.Fatalf("pages of %d: Get returned %s, want %s", items, got, strings.Join(keys, " "))
		}
		txs, err := c.Status(ctxT(t))
		if err != nil || len(txs) != 7 {
			t.Fatalf("pages of %d: Status: %d transactions, %v; want 7", items, len(txs), err)
		}
		per := min(items, 3)
		if want := (10 + per - 1) / per; pages["BoundGet"] != int(want) {
			t.Errorf("pages of %d: %d BoundGet calls, want %d", items, pages["BoundGet"], want)
		}
		if want := (7 + per - 1) / per; pages["Status"] != int(want) {
			t.Errorf("pages of %d: %d Status calls, want %d", items, pages["Status"], want)
		}
	}
}

// TestPagingTamperingIsAnError: a man in the middle that drops the "more" flag,
// drops a page (by moving the next page's start), cuts a page short, or strips
// the paging fields from a later page's request gets an error naming the
// provider, never a shorter listing.
func TestPagingTamperingIsAnError(t *testing.T) {
	t.Parallel()
	d, p, key, _ := pagedServer(t)
	c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Extension: true, PageItems: 3})
	for _, tc := range []struct {
		name    string
		request func(method string, req proto.Message)
		reply   func(method string, req, reply proto.Message)
	}{
		{name: "more dropped", reply: func(_ string, _, reply proto.Message) {
			switch r := reply.(type) {
			case *lsspb.GetReply:
				r.More = false
			case *lsspb.StatusReply:
				r.More = false
			}
		}},
		{name: "page cut short", reply: func(_ string, _, reply proto.Message) {
			switch r := reply.(type) {
			case *lsspb.GetReply:
				r.Kvs = r.Kvs[:len(r.Kvs)-1]
			case *lsspb.StatusReply:
				r.Transactions = r.Transactions[:len(r.Transactions)-1]
			}
		}},
		{name: "second page skipped", request: func(_ string, req proto.Message) {
			switch r := req.(type) {
			case *lsspb.GetRequest:
				if r.StartAfter != nil {
					r.StartAfter = proto.String("k/05")
				}
			case *lsspb.StatusRequest:
				if len(r.StartAfter) > 0 {
					r.StartAfter = append(r.StartAfter, 0xff)
				}
			}
		}},
		{name: "later page unpaged", request: func(_ string, req proto.Message) {
			switch r := req.(type) {
			case *lsspb.GetRequest:
				if r.StartAfter != nil {
					r.StartAfter, r.PageLimit = nil, 0
				}
			case *lsspb.StatusRequest:
				if len(r.StartAfter) > 0 {
					r.StartAfter, r.PageLimit = nil, 0
				}
			}
		}},
	} {
		p.setRequest(tc.request)
		p.setReply(tc.reply)
		_, err := c.Get(ctxT(t), "k/")
		wantProviderError(t, err, "get", ErrServerHMAC)
		if !strings.Contains(err.Error(), "p1") {
			t.Errorf("%s: Get error %q does not name the provider", tc.name, err)
		}
		_, err = c.Status(ctxT(t))
		wantProviderError(t, err, "status", ErrServerHMAC)
	}
}

// TestProviderThatDoesNotAdvanceIsAnError: a provider (holding the secret, so
// its MACs verify) that keeps answering "more" without moving on, or with an
// empty page, or with more entries than asked, is named faulty; one that never
// ends is stopped at MaxPages.
func TestProviderThatDoesNotAdvanceIsAnError(t *testing.T) {
	t.Parallel()
	d, p, key, _ := pagedServer(t)
	pub, err := wire.ParsePublicKey(d.ServerID())
	if err != nil {
		t.Fatal(err)
	}
	secret := wire.SharedSecret(key, pub)
	c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Extension: true, PageItems: 3, MaxPages: 5})
	// resign re-MACs a BoundGet page as the lying provider would.
	resign := func(req *lsspb.GetRequest, r *lsspb.GetReply) {
		r.Hmac = wire.BoundGetPageReplyMAC(secret[:], req.KeyPrefix, req.Nonce, req.StartAfter, req.PageLimit, r.Kvs, r.More, r.Generation)
	}
	var first []*lsspb.KeyValue
	for _, tc := range []struct {
		name  string
		lie   func(req *lsspb.GetRequest, r *lsspb.GetReply)
		words string
	}{
		{"the same page again", func(req *lsspb.GetRequest, r *lsspb.GetReply) {
			if req.StartAfter == nil {
				first = r.Kvs
			} else {
				r.Kvs = first
			}
			r.More = true
		}, "does not advance"},
		{"an empty page saying more", func(req *lsspb.GetRequest, r *lsspb.GetReply) {
			if req.StartAfter != nil {
				r.Kvs, r.More = nil, true
			}
		}, "does not advance"},
		{"a page larger than asked", func(req *lsspb.GetRequest, r *lsspb.GetReply) {
			r.Kvs = append(r.Kvs, &lsspb.KeyValue{Key: "k/zz"})
		}, "more than the 3 asked"},
		{"pages that never end", func(req *lsspb.GetRequest, r *lsspb.GetReply) {
			last := "k/"
			if req.StartAfter != nil {
				last = *req.StartAfter
			}
			r.Kvs, r.More = []*lsspb.KeyValue{{Key: last + "x"}}, true
		}, "did not end within 5 pages"},
	} {
		p.setReply(func(method string, req, reply proto.Message) {
			if method == "BoundGet" {
				tc.lie(req.(*lsspb.GetRequest), reply.(*lsspb.GetReply))
				resign(req.(*lsspb.GetRequest), reply.(*lsspb.GetReply))
			}
		})
		_, err := c.Get(ctxT(t), "k/")
		if !errors.Is(err, ErrInvalidReply) || !strings.Contains(err.Error(), tc.words) || !strings.Contains(err.Error(), "p1") {
			t.Errorf("%s: Get error %v, want ErrInvalidReply naming p1 and %q", tc.name, err, tc.words)
		}
	}
}

// TestServerThatDoesNotPageIsReadWhole: a server from before paging ignores the
// paging fields and answers the first request with the whole listing under the
// unpaged MAC, which says it is complete: Get and Status accept it.
func TestServerThatDoesNotPageIsReadWhole(t *testing.T) {
	t.Parallel()
	d, p, key, keys := pagedServer(t)
	p.setRequest(func(_ string, req proto.Message) {
		switch r := req.(type) {
		case *lsspb.GetRequest:
			r.StartAfter, r.PageLimit = nil, 0
		case *lsspb.StatusRequest:
			r.StartAfter, r.PageLimit = nil, 0
		}
	})
	c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Extension: true, PageItems: 3})
	es, err := c.Get(ctxT(t), "k/")
	if err != nil || len(es) != len(keys) {
		t.Fatalf("Get from a server that does not page: %d entries, %v; want %d", len(es), err, len(keys))
	}
	if txs, err := c.Status(ctxT(t)); err != nil || len(txs) != 7 {
		t.Fatalf("Status from a server that does not page: %d, %v; want 7", len(txs), err)
	}
}
