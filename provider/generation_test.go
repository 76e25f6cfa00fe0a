package provider

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// TestWriteBetweenPagesRestartsTheListing: a Put of the first and the last key
// that lands between two pages of a Get (read in pages of 3) makes the later
// pages carry another generation; the client reads the listing again from the
// first page and returns one snapshot (both keys at the new version), never the
// first key old and the last new.
func TestWriteBetweenPagesRestartsTheListing(t *testing.T) {
	t.Parallel()
	d, p, key, keys := pagedServer(t)
	writer := dialT(t, d.Addr(), d.ServerID(), key, false)
	var mu sync.Mutex
	firstPages, written := 0, false
	p.setRequest(func(method string, req proto.Message) {
		r, ok := req.(*lsspb.GetRequest)
		if method != "BoundGet" || !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if r.StartAfter == nil {
			firstPages++
			return
		}
		if !written {
			written = true
			kvs := []KV{{Key: keys[0], Version: 1, Value: []byte("new")}, {Key: keys[len(keys)-1], Version: 1, Value: []byte("new")}}
			if err := writer.Put(ctxT(t), kvs); err != nil {
				t.Errorf("Put between pages: %v", err)
			}
		}
	})
	c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Extension: true, PageItems: 3})
	es, err := c.Get(ctxT(t), "k/")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got := strings.Join(keysOf(es), " "); got != strings.Join(keys, " ") {
		t.Fatalf("Get returned %s, want %s", got, strings.Join(keys, " "))
	}
	first, last := es[0], es[len(es)-1]
	if first.Version != 1 || last.Version != 1 || string(first.Value) != "new" || string(last.Value) != "new" {
		t.Fatalf("Get returned %s@%d and %s@%d: not the snapshot after the Put", first.Key, first.Version, last.Key, last.Version)
	}
	if firstPages != 2 {
		t.Fatalf("the listing was started %d times, want 2 (once again after the write)", firstPages)
	}
}

// TestListingThatKeepsChangingIsAnError: when the generation changes within
// every try (writes land between the pages of each one, or a provider holding
// the secret signs a new generation on every page, which only ever fails its
// own listing), Get gives up after MaxListingRestarts restarts with
// ErrListingChanged naming the provider and the count, never a listing.
func TestListingThatKeepsChangingIsAnError(t *testing.T) {
	t.Parallel()
	d, p, key, keys := pagedServer(t)
	pub, err := wire.ParsePublicKey(d.ServerID())
	if err != nil {
		t.Fatal(err)
	}
	secret := wire.SharedSecret(key, pub)
	writer := dialT(t, d.Addr(), d.ServerID(), key, false)
	c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Extension: true, PageItems: 3,
		MaxListingRestarts: 2})
	var mu sync.Mutex
	firstPages, version := 0, int64(0)
	for _, tc := range []struct {
		name    string
		request func(method string, req proto.Message)
		reply   func(method string, req, reply proto.Message)
	}{
		{name: "writes between every two pages", request: func(method string, req proto.Message) {
			if r, ok := req.(*lsspb.GetRequest); ok && method == "BoundGet" && r.StartAfter != nil {
				mu.Lock()
				defer mu.Unlock()
				version++
				if err := writer.Put(ctxT(t), []KV{{Key: keys[0], Version: version, Value: []byte("again")}}); err != nil {
					t.Errorf("Put between pages: %v", err)
				}
			}
		}},
		{name: "a provider that signs a new generation on every page", reply: func(method string, req, reply proto.Message) {
			q, ok := req.(*lsspb.GetRequest)
			if !ok || method != "BoundGet" {
				return
			}
			r := reply.(*lsspb.GetReply)
			mu.Lock()
			defer mu.Unlock()
			version++
			r.Generation = []byte(fmt.Sprintf("lie %d", version))
			r.Hmac = wire.BoundGetPageReplyMAC(secret[:], q.KeyPrefix, q.Nonce, q.StartAfter, q.PageLimit, r.Kvs, r.More, r.Generation)
		}},
	} {
		firstPages = 0
		count := func(method string, req proto.Message) {
			if r, ok := req.(*lsspb.GetRequest); ok && method == "BoundGet" && r.StartAfter == nil {
				mu.Lock()
				firstPages++
				mu.Unlock()
			}
			if tc.request != nil {
				tc.request(method, req)
			}
		}
		p.setRequest(count)
		p.setReply(tc.reply)
		es, err := c.Get(ctxT(t), "k/")
		wantProviderError(t, err, "get", ErrListingChanged)
		if es != nil || !strings.Contains(err.Error(), "p1") || !strings.Contains(err.Error(), "changed under 2 restarts") {
			t.Errorf("%s: Get = %d entries, %v; want no entries and an error naming p1 and 2 restarts", tc.name, len(es), err)
		}
		if firstPages != 3 {
			t.Errorf("%s: the listing was started %d times, want 3 (2 restarts)", tc.name, firstPages)
		}
	}
}

// TestTamperedGenerationIsAnError: a man in the middle that rewrites the
// generation of a page (to make two states look like one snapshot, or to force
// restarts) breaks the page's MAC: ErrServerHMAC naming the provider.
func TestTamperedGenerationIsAnError(t *testing.T) {
	t.Parallel()
	d, p, key, _ := pagedServer(t)
	c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Extension: true, PageItems: 3})
	for name, rewrite := range map[string]func(r *lsspb.GetRequest, g *lsspb.GetReply){
		"generation changed":  func(_ *lsspb.GetRequest, g *lsspb.GetReply) { g.Generation[len(g.Generation)-1] ^= 1 },
		"generation stripped": func(_ *lsspb.GetRequest, g *lsspb.GetReply) { g.Generation = nil },
	} {
		p.setReply(func(method string, req, reply proto.Message) {
			if method == "BoundGet" {
				rewrite(req.(*lsspb.GetRequest), reply.(*lsspb.GetReply))
			}
		})
		_, err := c.Get(ctxT(t), "k/")
		wantProviderError(t, err, "get", ErrServerHMAC)
		if errors.Is(err, ErrListingChanged) {
			t.Errorf("%s: %v, want a MAC error, not a restart", name, err)
		}
	}
}
