package quorum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/lssquorum/lss/provider"
)

// randomSeeds are the seeds TestAtomicRandomFaults runs; a failure names its seed
// so it can be run alone with -run 'TestAtomicRandomFaults/seed=N'.
var randomSeeds = []uint64{1, 2, 3}

const (
	randomWriters = 3
	randomRounds  = 10
)

// putAttempt is one put a writer made and what it was told.
type putAttempt struct {
	kvs     []provider.KV
	outcome string // "acked", "aborted" (definite failure) or "unknown"
}

// TestAtomicRandomFaults runs concurrent atomic puts while one provider at a time
// is stopped, crashed, rolled back, delayed or cut, and coordinators stop at
// random points. After recovery and repair with every provider up it checks G1
// (every acknowledged put is there), G2 (no definitely failed put is visible
// anywhere) and G5 (all providers hold the same data).
func TestAtomicRandomFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("randomized fault test")
	}
	for _, seed := range randomSeeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runRandomFaults(t, seed) })
	}
}

func runRandomFaults(t *testing.T, seed uint64) {
	a := startAtomicNet(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var attempts []putAttempt
	record := func(p putAttempt) {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, p)
	}

	done := make(chan struct{})
	var chaos sync.WaitGroup
	chaos.Go(func() { runChaos(t, a, rand.New(rand.NewPCG(seed, 0)), done) })

	var writers sync.WaitGroup
	for w := range randomWriters {
		rng := rand.New(rand.NewPCG(seed, uint64(w)+1))
		c := a.newClient()
		writers.Go(func() {
			// Closed before the checks: its background commits are part of
			// what the checks judge.
			defer c.Close()
			runWriter(ctx, t, c, rng, seed, w, record)
		})
	}
	writers.Wait()
	close(done)
	chaos.Wait()

	// Heal everything, then recover and repair until settled (bounded).
	for _, p := range a.net.Providers() {
		p.Heal()
		p.SetLatency(0)
		if !p.Running() {
			if err := p.Restart(ctx); err != nil {
				t.Fatalf("seed %d: restart %s: %v", seed, p.Name(), err)
			}
		}
	}
	final := a.newClient()
	settled := false
	for range 5 {
		report, err := final.Recover(ctx)
		if err == nil && report.Settled() {
			settled = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !settled {
		t.Fatalf("seed %d: recovery did not settle every transaction", seed)
	}
	if _, err := final.Repair(ctx, ""); err != nil {
		t.Fatalf("seed %d: repair: %v", seed, err)
	}
	final.Close()

	// G5: every provider holds the same data.
	held := make([]map[string]provider.Entry, len(a.direct))
	for i, cl := range a.direct {
		es, err := cl.Get(ctx, "")
		if err != nil {
			t.Fatalf("seed %d: %s: %v", seed, cl.Name(), err)
		}
		held[i] = map[string]provider.Entry{}
		for _, e := range es {
			held[i][e.Key] = e
		}
	}
	for i := 1; i < len(held); i++ {
		for k, e := range held[0] {
			o, ok := held[i][k]
			if !ok || o.Version != e.Version || !bytes.Equal(o.Value, e.Value) {
				t.Errorf("seed %d: G5: %s holds %q at %d, %s at %d (present %v)", seed, a.direct[0].Name(), k, e.Version, a.direct[i].Name(), o.Version, ok)
			}
		}
		if len(held[i]) != len(held[0]) {
			t.Errorf("seed %d: G5: %s holds %d keys, %s %d", seed, a.direct[0].Name(), len(held[0]), a.direct[i].Name(), len(held[i]))
		}
	}

	counts := map[string]int{}
	for _, p := range attempts {
		counts[p.outcome]++
		for _, kv := range p.kvs {
			e, ok := held[0][kv.Key]
			switch p.outcome {
			case "acked": // G1
				if !ok || e.Version < kv.Version || (e.Version == kv.Version && !bytes.Equal(e.Value, kv.Value)) {
					t.Errorf("seed %d: G1: acknowledged %q v%d %q, provider holds v%d %q", seed, kv.Key, kv.Version, kv.Value, e.Version, e.Value)
				}
			case "aborted": // G2
				for i := range held {
					if e, ok := held[i][kv.Key]; ok && e.Version == kv.Version && bytes.Equal(e.Value, kv.Value) {
						t.Errorf("seed %d: G2: aborted %q v%d %q is visible on %s", seed, kv.Key, kv.Version, kv.Value, a.direct[i].Name())
					}
				}
			}
		}
	}
	t.Logf("seed %d: %v", seed, counts)
	if counts["acked"] == 0 {
		t.Errorf("seed %d: no put succeeded; the test exercised nothing", seed)
	}
}

// runWriter makes randomRounds puts of two keys of its own at their next
// versions, sometimes stopping its coordinator at a random stage.
func runWriter(ctx context.Context, t *testing.T, c *Client, rng *rand.Rand, seed uint64, w int, record func(putAttempt)) {
	keys := []string{fmt.Sprintf("w%d/a", w), fmt.Sprintf("w%d/b", w)}
	next := map[string]int64{}
	for round := range randomRounds {
		kvs := make([]provider.KV, len(keys))
		for i, k := range keys {
			kvs[i] = provider.KV{Key: k, Version: next[k], Value: fmt.Appendf(nil, "s%d w%d r%d %s", seed, w, round, k)}
		}
		stopAt := stage(0)
		if rng.IntN(5) == 0 {
			stopAt = stage(1 + rng.IntN(2))
		}
		c.test.stop = func(s stage) bool { return s == stopAt }
		_, err := c.Put(ctx, kvs)
		c.test.stop = nil
		switch {
		case err == nil:
			record(putAttempt{kvs, "acked"})
			for _, k := range keys {
				next[k]++
			}
			continue
		case errors.Is(err, ErrTxAborted):
			record(putAttempt{kvs, "aborted"})
		default:
			record(putAttempt{kvs, "unknown"})
			// What a signer does after an unknown outcome: settle it.
			if _, err := c.Recover(ctx); err != nil {
				t.Logf("seed %d: writer %d: recover: %v", seed, w, err)
			}
		}
		// Learn the current versions before trying again.
		res, err := c.Get(ctx, fmt.Sprintf("w%d/", w))
		if err != nil {
			continue
		}
		for _, k := range keys {
			if e, ok := res.Value(k); ok {
				next[k] = e.Version + 1
			}
		}
	}
}

// runChaos faults one provider at a time until done, then repairs it before
// picking the next, so at most a minority is ever faulty.
func runChaos(t *testing.T, a *atomicNet, rng *rand.Rand, done <-chan struct{}) {
	ctx := context.Background()
	fixer := a.newClient()
	pause := func() bool {
		select {
		case <-done:
			return false
		case <-time.After(time.Duration(20+rng.IntN(80)) * time.Millisecond):
			return true
		}
	}
	for step := 0; step < 200; step++ {
		p := a.provider(rng.IntN(3))
		switch rng.IntN(5) {
		case 0:
			if err := p.Stop(ctx); err == nil {
				pause()
			}
			_ = p.Restart(ctx)
		case 1:
			if err := p.Crash(); err == nil {
				pause()
			}
			_ = p.Restart(ctx)
		case 2:
			snap, err := p.Snapshot()
			if err == nil {
				pause()
				_ = p.Rollback(ctx, snap)
			}
		case 3:
			p.SetLatency(time.Duration(10+rng.IntN(60)) * time.Millisecond)
			pause()
			p.SetLatency(0)
		case 4:
			p.Cut()
			pause()
			p.Heal()
		}
		// Bring the victim back in line before faulting the next one.
		_, _ = fixer.Recover(ctx)
		_, _ = fixer.Repair(ctx, "")
		select {
		case <-done:
			return
		default:
		}
	}
}
