package quorum_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// TestPagedGetIsNeverTorn: the servers page by 2, and atomic puts of six keys
// (three pages) land while a reader reads them over and over. The writer's
// Commits reach p1 late, so for a while p0 holds a put committed and p1 holds
// it prepared only (the old values in its data); the reader reads p0 and p1
// (p2 is hidden from it) and p0's pages are spaced out, so its listings often
// start before p0's Commit and end after it. Without one generation across a
// listing's pages, p0's listing holds the first keys old and the last new, and
// the merge with p1's old values returns half a put; with it, every read holds
// the six keys at one version with that version's values.
func TestPagedGetIsNeverTorn(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net, err := testnet.Start(ctx, testnet.Config{N: 3, Dir: t.TempDir(), MaxPageItems: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Close() })
	ps := net.Providers()
	key := newKey(t)
	late := startMITM(t, ps[1].Addr()) // the writer's Commits to p1 arrive late
	late.watch(func(method string, _ proto.Message) {
		if method == "Commit" {
			time.Sleep(60 * time.Millisecond)
		}
	})
	paced := startMITM(t, ps[0].Addr()) // the reader's later pages from p0 come slowly
	paced.watch(func(method string, req proto.Message) {
		if r, ok := req.(*lsspb.GetRequest); ok && method == "BoundGet" && r.StartAfter != nil {
			time.Sleep(8 * time.Millisecond)
		}
	})
	hide := startMITM(t, ps[2].Addr()) // the reader reads p0 and p1 only
	hide.failWith(codes.Unavailable, "BoundGet")
	w := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[1].Addr = late.addr
	})
	r := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[0].Addr = paced.addr
		cfg.Providers[2].Addr = hide.addr
		cfg.Grace = -1
	})
	const keys = 6
	putAll := func(v int64) []provider.KV {
		var kvs []provider.KV
		for i := range keys {
			kvs = append(kvs, kv(fmt.Sprintf("k/%d", i), v, fmt.Sprintf("v%d", v)))
		}
		return kvs
	}
	put(t, w, putAll(0)...)
	settle(t, w)

	reader := readConcurrently(ctx, t, r, "k/", func(res *quorum.GetResult) bool {
		ok := len(res.Entries) == keys
		for _, e := range res.Entries {
			ok = ok && e.Version == res.Entries[0].Version && string(e.Value) == fmt.Sprintf("v%d", e.Version)
		}
		return ok
	})
	for v := int64(1); v <= 25; v++ {
		if _, err := w.Put(ctx, putAll(v)); err != nil {
			t.Fatalf("put v%d: %v", v, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	settle(t, w)
	// With the writes over, the reader's listings stop changing: let it
	// complete a read (bounded) before it stops, however slow the machine.
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && reader.completed() == 0; {
		time.Sleep(20 * time.Millisecond)
	}
	wantEntries(t, get(t, r, "k/"), "k/0@25=v25", "k/1@25=v25", "k/2@25=v25", "k/3@25=v25", "k/4@25=v25", "k/5@25=v25")
	reader.finish(t)
}
