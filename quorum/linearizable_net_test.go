package quorum_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// regInput is one operation on a versioned register (one key).
type regInput struct {
	key     string
	put     bool
	version int64  // put: the version written
	value   string // put: the value written
}

// regOutput is what the operation returned. For a put, ok false means the
// outcome is unknown (the put failed, yet may have reached some provider).
type regOutput struct {
	ok      bool
	version int64 // get: -1 when the key is absent
	value   string
}

// regState is the register: the newest version and its value (-1: absent).
type regState struct {
	version int64
	value   string
}

// registerModel is a versioned register per key, as the base protocol defines
// it: a put of version v succeeds only on top of v-1 (or of nothing for v = 0)
// and replaces the value; a get returns the current version and value. A put
// with an unknown outcome may or may not have happened, at any point after it
// was called.
var registerModel = porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(regInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []any { return []any{regState{version: -1}} },
	Step: func(state, input, output any) []any {
		s, in, out := state.(regState), input.(regInput), output.(regOutput)
		if !in.put {
			if out.version == s.version && out.value == s.value {
				return []any{s}
			}
			return nil
		}
		applies := in.version == s.version+1
		next := regState{version: in.version, value: in.value}
		switch {
		case out.ok && applies:
			return []any{next}
		case out.ok:
			return nil
		case applies:
			return []any{s, next}
		}
		return []any{s}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		if in.put {
			return fmt.Sprintf("put(%s@%d=%s) ok=%v", in.key, in.version, in.value, out.ok)
		}
		return fmt.Sprintf("get(%s) = @%d=%s", in.key, out.version, out.value)
	},
}

// history records operations with call and return times from one clock.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, in regInput, call int64, out regOutput, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// TestLinearizableUnderFaults runs concurrent gets and read-then-put writers
// on two keys through one plain-mode client, while one provider at a time is
// stopped and restarted, slowed down, or rolled back to an earlier snapshot of
// its own data, and checks with porcupine that the history is linearizable for
// a versioned register per key. Failed gets (no read quorum, rollback
// detected) constrain nothing; a failed put may or may not have happened, at
// any time after it was called (a later read may write it back); a put refused
// by the watermark before sending is left out (it sent nothing).
func TestLinearizableUnderFaults(t *testing.T) {
	t.Parallel()
	for _, seed := range faultSeeds(t, 1, 2, 3) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			runLinearizability(t, seed, 2*time.Second, quorum.ModePlain)
		})
	}
}

// TestLinearizableAtomicUnderFaults is the same check in atomic mode, where a
// read meets Commits still landing (one provider slowed or stopped between a
// put's decision and its Commit) and certified values held by fewer than W.
// A put that failed with a definite abort did nothing: it must never be read.
func TestLinearizableAtomicUnderFaults(t *testing.T) {
	t.Parallel()
	for _, seed := range faultSeeds(t, 1, 2, 3) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			runLinearizability(t, seed, 2*time.Second, quorum.ModeAtomic)
		})
	}
}

// minLinearizableWork is how many acknowledged puts and answered gets a
// history needs for its check to mean anything.
const minLinearizableWork = 5

func runLinearizability(t *testing.T, seed uint64, length time.Duration, mode quorum.Mode) {
	ctx := testCtx(t)
	net := startNet(t, 3)
	key := newKey(t)
	c := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = mode
		cfg.Grace = quorum.DefaultGrace // reads do not wait for a slow provider
		cfg.Timeout = time.Second
		cfg.Logger = slog.New(slog.DiscardHandler)
	})
	h := &history{start: time.Now()}
	keys := []string{"k0", "k1"}

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	var puts, okPuts, gets, okGets atomic.Int64
	// The work runs for length, and on (up to four times as long) until enough
	// of it got through to mean anything: on a loaded machine conflicts and
	// faults can leave few puts acknowledged in the first window.
	wg.Go(func() {
		defer stopWork()
		enough := func() bool { return okPuts.Load() >= minLinearizableWork && okGets.Load() >= minLinearizableWork }
		deadline := time.After(4 * length)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		window := time.After(length)
		for windowOver := false; ; {
			select {
			case <-window:
				windowOver = true
			case <-tick.C:
			case <-deadline:
				return
			case <-ctx.Done():
				return
			}
			if windowOver && enough() {
				return
			}
		}
	})
	// Readers.
	for r := range 2 {
		rng := rand.New(rand.NewPCG(seed, uint64(100+r)))
		wg.Go(func() {
			for workCtx.Err() == nil {
				k := keys[rng.IntN(len(keys))]
				call := h.now()
				res, err := c.Get(ctx, k)
				ret := h.now()
				gets.Add(1)
				if err != nil {
					continue
				}
				okGets.Add(1)
				h.add(r, regInput{key: k}, call, readOf(res, k), ret)
			}
		})
	}
	// Writers: read the key, then put its next version.
	for w := range 3 {
		rng := rand.New(rand.NewPCG(seed, uint64(200+w)))
		client := 2 + w
		wg.Go(func() {
			for n := 0; workCtx.Err() == nil; n++ {
				k := keys[rng.IntN(len(keys))]
				call := h.now()
				res, err := c.Get(ctx, k)
				ret := h.now()
				if err != nil {
					continue
				}
				cur := readOf(res, k)
				h.add(client, regInput{key: k}, call, cur, ret)
				in := regInput{key: k, put: true, version: cur.version + 1, value: fmt.Sprintf("w%d-%d", w, n)}
				call = h.now()
				_, err = c.Put(ctx, []provider.KV{{Key: k, Version: in.version, Value: []byte(in.value)}})
				ret = h.now()
				puts.Add(1)
				var below *quorum.BelowWatermarkError
				switch {
				case errors.As(err, &below):
					// Refused before sending: it did nothing.
				case errors.Is(err, quorum.ErrTxAborted):
					// A definite abort: it never takes effect.
				case err != nil:
					h.add(client, in, call, regOutput{}, math.MaxInt64)
				default:
					okPuts.Add(1)
					h.add(client, in, call, regOutput{ok: true}, ret)
				}
			}
		})
	}
	injectFaults(t, workCtx, net, seed)
	wg.Wait()

	res, info := porcupine.CheckOperationsVerbose(registerModel.ToModel(), h.ops, 20*time.Second)
	t.Logf("seed %d: %d ops, puts %d (%d acknowledged), gets %d (%d answered): %s",
		seed, len(h.ops), puts.Load(), okPuts.Load(), gets.Load(), okGets.Load(), res)
	if okPuts.Load() < minLinearizableWork || okGets.Load() < minLinearizableWork {
		t.Errorf("too little work got through to mean anything")
	}
	if res != porcupine.Ok {
		path := t.TempDir() + "/history.html"
		_ = porcupine.VisualizePath(registerModel.ToModel(), info, path)
		ops := slices.Clone(h.ops)
		slices.SortFunc(ops, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
		for _, op := range ops {
			ret := "never"
			if op.Return != math.MaxInt64 {
				ret = fmt.Sprint(time.Duration(op.Return))
			}
			t.Logf("client %d [%v, %s] %s", op.ClientId, time.Duration(op.Call), ret, registerModel.DescribeOperation(op.Input, op.Output))
		}
		t.Fatalf("history is %s (visualization: %s)", res, path)
	}
}

// readOf is what a get of key returned.
func readOf(res *quorum.GetResult, key string) regOutput {
	if e, ok := res.Value(key); ok {
		return regOutput{ok: true, version: e.Version, value: string(e.Value)}
	}
	return regOutput{ok: true, version: -1}
}

// injectFaults harms one provider at a time until ctx ends: stop and restart,
// latency, or a rollback to a snapshot of its own data taken a moment before.
func injectFaults(t *testing.T, ctx context.Context, net *testnet.Network, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	ps := net.Providers()
	pause := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	bg := context.Background()
	for ctx.Err() == nil {
		p := ps[rng.IntN(len(ps))]
		switch rng.IntN(3) {
		case 0:
			if err := p.Stop(bg); err != nil {
				t.Error(err)
			}
			pause(150 * time.Millisecond)
			if err := p.Restart(bg); err != nil {
				t.Error(err)
			}
		case 1:
			p.SetLatency(time.Duration(20+rng.IntN(60)) * time.Millisecond)
			pause(200 * time.Millisecond)
			p.SetLatency(0)
		case 2:
			snap, err := p.Snapshot()
			if err != nil {
				t.Error(err)
				continue
			}
			pause(200 * time.Millisecond)
			if err := p.Rollback(bg, snap); err != nil {
				t.Error(err)
			}
		}
		pause(50 * time.Millisecond)
	}
}
