package quorum_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// In atomic mode too, a provider that never answers holds up neither Put (it
// decides at W prepared and returns at W commits) nor Get (R replies plus the
// grace), including a put of a key whose last commit is still pending on the
// blackholed provider (its flush runs in that provider's goroutine only).
func TestAtomicBlackholedProviderDoesNotBlock(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	ps := net.Providers()
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Grace = 50 * time.Millisecond
	})
	put(t, c, kv("k", 0, "x")) // connections established
	ps[2].Blackhole()
	defer ps[2].Heal()
	for v := int64(1); v <= 2; v++ {
		start := time.Now()
		res := put(t, c, kv("k", v, "v"))
		if took := time.Since(start); took > callTimeout/2 {
			t.Errorf("atomic put of v%d took %v with one provider blackholed", v, took)
		}
		if len(res.Acked) != 2 {
			t.Errorf("atomic put of v%d: %+v, want acknowledged by two", v, res)
		}
	}
	start := time.Now()
	got := get(t, c, "")
	if took := time.Since(start); took > callTimeout/2 {
		t.Errorf("atomic get took %v with one provider blackholed", took)
	}
	wantEntries(t, got, "k@2=v")
	if s := state(t, got, "p2"); s.Status != quorum.Unreachable {
		t.Errorf("p2 = %v, want unreachable", s.Status)
	}
}

// Close while atomic puts and gets are in flight, one provider blackholed,
// waits for the work the client started (each provider's part of a put is
// bounded: its prepare and its commit by one call timeout each) and leaves
// nothing running. Not parallel: it counts goroutines.
func TestCloseDuringAtomicWorkLeavesNothingRunning(t *testing.T) {
	net := startNet(t, 3)
	ps := net.Providers()
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Grace = 50 * time.Millisecond
		cfg.AutoRepair = true
	})
	put(t, c, kv("warm", 0, "x"))
	ps[2].Blackhole()
	defer ps[2].Heal()
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			for v := range 10 {
				_, _ = c.Put(ctx, []provider.KV{kv(string(rune('a'+i)), int64(v), "v")})
			}
		})
		wg.Go(func() {
			for range 10 {
				_, _ = c.Get(ctx, "")
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*callTimeout+time.Second {
		t.Errorf("Close took %v, want at most a prepare and a commit timeout", took)
	}
	wg.Wait() // the calls made after Close fail at once
	if took := time.Since(start); took > 2*callTimeout+2*time.Second {
		t.Errorf("the calls in flight at Close returned %v after it", took)
	}
	if left := quorumGoroutines(); len(left) > 0 {
		t.Errorf("%d goroutines of the quorum package still running after Close:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}
