package quorum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/testnet"
)

// The seeds TestAtomicRandomFaults and TestAtomicRandomFaultsPruned run unless
// LSS_FAULT_SEEDS lists others (seeds_test.go); a failure names its seed so it
// can be run alone with LSS_FAULT_SEEDS=N or -run 'TestAtomicRandomFaults/seed=N'.
var (
	randomSeeds       = []uint64{1, 2, 3}
	randomSeedsPruned = []uint64{1, 2}
)

const (
	randomWriters = 3
	randomSteps   = 12
	// randomTimeout is the writers' call timeout: short, so that a writer
	// restarting after a crash waits little for its young transaction.
	randomTimeout = 500 * time.Millisecond
)

// putAttempt is one put a writer made and what it was told.
type putAttempt struct {
	kvs     []provider.KV
	txid    []byte
	outcome string // "acked", "aborted" (definite failure), "unknown" or "crashed"
}

// TestAtomicRandomFaults runs rounds of concurrent atomic puts while one
// provider per step is stopped, crashed, rolled back, delayed or cut, and
// coordinators crash at random points (a new process then opens the client).
// Nothing fixes the providers between faults: no Recover, no Repair; only what
// a client does by itself (settling, recovery at Open and on meeting a
// reservation). After every step, once the writers settled, it checks:
//   - G1: every acknowledged put is returned by a quorum Get, never torn;
//   - G2: no definitely failed put is visible on any provider;
//   - closure: a provider holding any key of a put at its version with its
//     value holds every key of that put at that version or newer;
//   - self-settling: no answering provider holds prepared a transaction that
//     was decided (acknowledged or aborted), except one rolled back this step,
//     which lost the record of its settlement.
func TestAtomicRandomFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("randomized fault test")
	}
	for _, seed := range faultSeeds(t, randomSeeds...) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runRandomFaults(t, seed, testnet.Config{N: 3}) })
	}
}

// TestAtomicRandomFaultsPruned is TestAtomicRandomFaults on providers that
// delete decided transaction records soon after a coordinator's deadline
// (lssd's retention, seven days by default), as a long-lived deployment does:
// a transaction left prepared on one provider is then recovered from the
// commit proofs in the others' data, not from their records.
func TestAtomicRandomFaultsPruned(t *testing.T) {
	if testing.Short() {
		t.Skip("randomized fault test")
	}
	// Longer than a fence must be remembered (a late Prepare comes within a
	// coordinator's deadline) and than the youth of a crashed coordinator's
	// transaction.
	retention := 4*randomTimeout + 500*time.Millisecond
	for _, seed := range faultSeeds(t, randomSeedsPruned...) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runRandomFaults(t, seed, testnet.Config{N: 3, Retention: retention, PruneInterval: 50 * time.Millisecond})
		})
	}
}

// randomWriter is one signer: its client (replaced when it "crashes"), keys
// and next versions.
type randomWriter struct {
	w      int
	c      *Client
	rng    *rand.Rand
	keys   []string
	next   map[string]int64
	round  int
	closed []*Client
}

func runRandomFaults(t *testing.T, seed uint64, cfg testnet.Config) {
	a := startAtomicNetConfig(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	open := func() *Client {
		cfg := a.openConfig(randomTimeout)
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		c, _, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var writers []*randomWriter
	for w := range randomWriters {
		writers = append(writers, &randomWriter{w: w, c: open(), rng: rand.New(rand.NewPCG(seed, uint64(w)+1)),
			keys: []string{fmt.Sprintf("w%d/a", w), fmt.Sprintf("w%d/b", w)}, next: map[string]int64{}})
	}
	defer func() {
		for _, wr := range writers {
			wr.c.Close()
		}
	}()
	chaos := rand.New(rand.NewPCG(seed, 0))
	var attempts []putAttempt
	var mu sync.Mutex
	for step := range randomSteps {
		victim := chaos.IntN(3)
		heal, rolledBack := fault(ctx, t, a, victim, chaos)
		var wg sync.WaitGroup
		for _, wr := range writers {
			wg.Go(func() {
				p := wr.put(ctx, seed, open)
				mu.Lock()
				attempts = append(attempts, p)
				mu.Unlock()
			})
		}
		wg.Wait()
		heal()
		for _, wr := range writers {
			if err := wr.c.Settle(ctx); err != nil {
				t.Fatalf("seed %d step %d: settle: %v", seed, step, err)
			}
		}
		checker := a.newClient()
		checkStep(ctx, t, a, checker, fmt.Sprintf("seed %d step %d", seed, step), attempts, rolledBack)
		checker.Close()
		if t.Failed() {
			return
		}
	}
	counts := map[string]int{}
	for _, p := range attempts {
		counts[p.outcome]++
	}
	t.Logf("seed %d: %v", seed, counts)
	if counts["acked"] == 0 {
		t.Errorf("seed %d: no put succeeded; the test exercised nothing", seed)
	}
}

// fault applies one fault to provider victim and returns how to end it, and
// the index of a provider rolled back (-1 if none).
func fault(ctx context.Context, t *testing.T, a *atomicNet, victim int, rng *rand.Rand) (func(), int) {
	p := a.provider(victim)
	switch rng.IntN(5) {
	case 0:
		if err := p.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		return func() { restart(ctx, t, a, victim) }, -1
	case 1:
		if err := p.Crash(); err != nil {
			t.Fatal(err)
		}
		return func() { restart(ctx, t, a, victim) }, -1
	case 2:
		snap, err := p.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		return func() {
			if err := p.Rollback(ctx, snap); err != nil {
				t.Fatal(err)
			}
		}, victim
	case 3:
		p.SetLatency(time.Duration(10+rng.IntN(60)) * time.Millisecond)
		return func() { p.SetLatency(0) }, -1
	}
	p.Cut()
	return p.Heal, -1
}

func restart(ctx context.Context, t *testing.T, a *atomicNet, i int) {
	if err := a.provider(i).Restart(ctx); err != nil {
		t.Fatal(err)
	}
}

// put makes the writer's next put of its two keys, sometimes crashing its
// coordinator at a random stage; after a crash it opens a new client, as a
// restarted signer does, and waits until its crashed transaction is no longer
// young so that the new client settles it.
func (wr *randomWriter) put(ctx context.Context, seed uint64, open func() *Client) putAttempt {
	kvs := make([]provider.KV, len(wr.keys))
	for i, k := range wr.keys {
		kvs[i] = provider.KV{Key: k, Version: wr.next[k], Value: fmt.Appendf(nil, "s%d w%d r%d %s", seed, wr.w, wr.round, k)}
	}
	wr.round++
	var txid []byte
	stopAt := stage(0)
	if wr.rng.IntN(8) == 0 {
		stopAt = stage(1 + wr.rng.IntN(2))
		txid = newTxID(time.Now())
		wr.c.test.txid = func() []byte { return txid }
	}
	wr.c.test.stop = func(s stage) bool { return s == stopAt }
	res, err := wr.c.Put(ctx, kvs)
	wr.c.test.stop, wr.c.test.txid = nil, nil
	p := putAttempt{kvs: kvs, outcome: "unknown"}
	var txErr *TxError
	switch {
	case err == nil:
		p.outcome, p.txid = "acked", res.TxID
		for _, k := range wr.keys {
			wr.next[k]++
		}
		return p
	case errors.Is(err, errCoordinatorStopped):
		p.outcome, p.txid = "crashed", txid
		wr.c.Close()
		wr.c = open()
		time.Sleep(time.Until(txBorn(txid).Add(wr.c.youngWindow())) + 50*time.Millisecond)
	case errors.As(err, &txErr):
		p.txid = txErr.TxID
		if errors.Is(err, ErrTxAborted) {
			p.outcome = "aborted"
		}
	}
	// Learn the current versions before trying again.
	if res, err := wr.c.Get(ctx, fmt.Sprintf("w%d/", wr.w)); err == nil {
		for _, k := range wr.keys {
			if e, ok := res.Value(k); ok {
				wr.next[k] = e.Version + 1
			}
		}
	}
	return p
}

// checkStep checks the invariants listed on TestAtomicRandomFaults.
func checkStep(ctx context.Context, t *testing.T, a *atomicNet, checker *Client, at string, attempts []putAttempt, rolledBack int) {
	t.Helper()
	res, err := checker.Get(ctx, "")
	if err != nil {
		t.Errorf("%s: quorum get: %v", at, err)
		return
	}
	held := make([]map[string]provider.Entry, len(a.direct))
	prepared := make([]map[string]bool, len(a.direct))
	for i, cl := range a.direct {
		es, err := cl.Get(ctx, "")
		if err != nil {
			t.Errorf("%s: %s: %v", at, cl.Name(), err)
			return
		}
		held[i] = map[string]provider.Entry{}
		for _, e := range a.plain(es) {
			held[i][e.Key] = e
		}
		txs, err := cl.Status(ctx)
		if err != nil {
			t.Errorf("%s: status of %s: %v", at, cl.Name(), err)
			return
		}
		prepared[i] = map[string]bool{}
		for _, tx := range txs {
			if tx.State == provider.TxPrepared {
				prepared[i][string(tx.TxID)] = true
			}
		}
	}
	// No torn read: both keys of a writer come from the same put (the value
	// names the round; keys are always written together).
	for w := range randomWriters {
		ea, okA := res.Value(fmt.Sprintf("w%d/a", w))
		eb, okB := res.Value(fmt.Sprintf("w%d/b", w))
		ra, _, _ := bytes.Cut(ea.Value, []byte(" w"+fmt.Sprint(w)+"/"))
		rb, _, _ := bytes.Cut(eb.Value, []byte(" w"+fmt.Sprint(w)+"/"))
		if okA != okB || !bytes.Equal(ra, rb) {
			t.Errorf("%s: torn read: w%d/a = %q, w%d/b = %q", at, w, ea.Value, w, eb.Value)
		}
	}
	for _, p := range attempts {
		for _, kv := range p.kvs {
			switch p.outcome {
			case "acked": // G1
				e, ok := res.Value(kv.Key)
				if !ok || e.Version < kv.Version || (e.Version == kv.Version && !bytes.Equal(e.Value, kv.Value)) {
					t.Errorf("%s: G1: acknowledged %q v%d %q, the quorum returns v%d %q", at, kv.Key, kv.Version, kv.Value, e.Version, e.Value)
				}
			case "aborted": // G2
				for i := range held {
					if e, ok := held[i][kv.Key]; ok && e.Version == kv.Version && bytes.Equal(e.Value, kv.Value) {
						t.Errorf("%s: G2: aborted %q v%d %q is visible on %s", at, kv.Key, kv.Version, kv.Value, a.direct[i].Name())
					}
				}
			}
		}
		for i := range held { // closure
			if !holdsAny(held[i], p.kvs) {
				continue
			}
			for _, kv := range p.kvs {
				if e, ok := held[i][kv.Key]; !ok || e.Version < kv.Version {
					t.Errorf("%s: closure: %s holds part of put %v (%s) but %q at %d", at, a.direct[i].Name(), keysOf(p.kvs), p.outcome, kv.Key, e.Version)
				}
			}
		}
		if (p.outcome == "acked" || p.outcome == "aborted") && p.txid != nil { // self-settling
			for i := range prepared {
				if prepared[i][string(p.txid)] && i != rolledBack {
					t.Errorf("%s: self-settling: %s still holds the %s transaction %x prepared", at, a.direct[i].Name(), p.outcome, p.txid[:8])
				}
			}
		}
	}
}

func holdsAny(held map[string]provider.Entry, kvs []provider.KV) bool {
	for _, kv := range kvs {
		if e, ok := held[kv.Key]; ok && e.Version == kv.Version && bytes.Equal(e.Value, kv.Value) {
			return true
		}
	}
	return false
}

func keysOf(kvs []provider.KV) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key
	}
	return out
}
