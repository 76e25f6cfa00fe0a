package quorum_test

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// A provider that keeps every request it was sent (G7, and the keeping
// provider of docs/design.md) learns no plaintext of the client's values on
// any path that sends one: a plain put, an atomic put's Prepare and Commit, an
// aborted put's Prepare (which it keeps though nothing is written), and the
// settling Restore of a put it missed. The same search finds the value of a
// client with encryption disabled, so the search works.
func TestAdversaryKeptRequestsHoldNoPlaintext(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c, m := atomicThrough(t, net, key, 2)
	var mu sync.Mutex
	var kept []string // method and marshalled request
	var keptBytes [][]byte
	m.watch(func(method string, req proto.Message) {
		b, err := proto.Marshal(req)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		kept, keptBytes = append(kept, method), append(keptBytes, b)
	})
	seen := func(needle []byte) []string {
		mu.Lock()
		defer mu.Unlock()
		var in []string
		for i, b := range keptBytes {
			if bytes.Contains(b, needle) {
				in = append(in, kept[i])
			}
		}
		return in
	}

	committed, aborted, missed, plain := secretState("committed"), secretState("aborted"), secretState("missed"), secretState("plain")
	put(t, c, provider.KV{Key: "chan/1", Version: 0, Value: committed})
	settle(t, c)

	// p0 and p1 refuse the next put by the version rule: aborted, p2 keeps its Prepare.
	putDirectly(ctx, t, ps[:2], key, kv("chan/2", 0, "someone else"))
	if _, err := c.Put(ctx, []provider.KV{{Key: "chan/2", Version: 0, Value: aborted}}); !errors.Is(err, quorum.ErrTxAborted) {
		t.Fatalf("put: %v, want a definite abort", err)
	}

	// p2 misses a put; its Commit is refused as unknown once it is back, and
	// the settler restores the put onto it.
	m.failWith(codes.Unavailable, "Prepare", "Fence")
	put(t, c, provider.KV{Key: "chan/3", Version: 0, Value: missed})
	m.heal()
	eventually(t, "the settler restores the missed put onto p2", func() bool {
		return slices.Contains(seen([]byte("chan/3")), "Restore")
	})
	settle(t, c)

	pc := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModePlain
		cfg.Providers[2].Addr = m.addr
	})
	put(t, pc, provider.KV{Key: "chan/4", Version: 0, Value: plain})
	settle(t, pc)

	for name, v := range map[string][]byte{"committed": committed, "aborted": aborted, "missed": missed, "plain": plain} {
		// Any 16 bytes of the plaintext would do.
		if in := seen(v[100:116]); len(in) > 0 {
			t.Errorf("the %s value's plaintext was sent to p2 in %v", name, in)
		}
	}
	if got := seen([]byte("chan/2")); !slices.Contains(got, "Prepare") {
		t.Errorf("p2 was sent %v for the aborted put, want its Prepare", got)
	}

	visible := secretState("visible")
	vc := newClient(t, net, newKey(t), func(cfg *quorum.Config) {
		cfg.DisableEncryption = true
		cfg.Providers[2].Addr = m.addr
	})
	put(t, vc, provider.KV{Key: "chan/1", Version: 0, Value: visible})
	settle(t, vc)
	if in := seen(visible[100:116]); len(in) == 0 {
		t.Errorf("the value written without encryption is in no request p2 kept: the search is broken")
	}
}
