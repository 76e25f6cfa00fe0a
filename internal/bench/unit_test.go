package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100-i) * time.Millisecond // reversed: summarize sorts
	}
	l := summarize(ds)
	if l.Count != 100 || l.P50 != 50*time.Millisecond || l.P90 != 90*time.Millisecond ||
		l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond {
		t.Fatalf("summarize(1..100 ms) = %+v", l)
	}
	if one := summarize([]time.Duration{7}); one.P50 != 7 || one.P99 != 7 || one.Max != 7 {
		t.Fatalf("summarize of one value = %+v", one)
	}
	if empty := summarize(nil); empty != (Latency{}) {
		t.Fatalf("summarize(nil) = %+v", empty)
	}
}

func TestParseModesAndWorkloads(t *testing.T) {
	t.Parallel()
	ms, err := ParseModes("atomic, one,slow")
	if err != nil || len(ms) != 3 || ms[0] != ModeAtomic || ms[1] != ModeOne || ms[2] != ModeSlow {
		t.Fatalf("ParseModes = %v, %v", ms, err)
	}
	for _, bad := range []string{"", "one,,plain", "fast", "one,one"} {
		if _, err := ParseModes(bad); err == nil {
			t.Errorf("ParseModes(%q) accepted", bad)
		}
	}
	ws, err := ParseWorkloads("signer,provider")
	if err != nil || len(ws) != 2 || ws[0] != WorkloadSigner || ws[1] != WorkloadProvider {
		t.Fatalf("ParseWorkloads = %v, %v", ws, err)
	}
	for _, bad := range []string{"", "signer,signer", "disk"} {
		if _, err := ParseWorkloads(bad); err == nil {
			t.Errorf("ParseWorkloads(%q) accepted", bad)
		}
	}
	for _, m := range AllModes {
		if back, err := ParseMode(m.String()); err != nil || back != m {
			t.Errorf("mode %v does not round-trip: %v, %v", m, back, err)
		}
	}
}

func TestWorkloadTransactions(t *testing.T) {
	t.Parallel()
	ins, upd := loadTx(3, 4), loadTx(3, 5)
	if len(ins) != LoadKeys || len(upd) != LoadKeys {
		t.Fatalf("%d and %d keys, want %d", len(ins), len(upd), LoadKeys)
	}
	for i := range ins {
		if ins[i].Version != 0 || upd[i].Version != 1 || ins[i].Key != upd[i].Key {
			t.Fatalf("key %d: insert %s@%d, update %s@%d", i, ins[i].Key, ins[i].Version, upd[i].Key, upd[i].Version)
		}
		if !strings.HasPrefix(ins[i].Key, prefixOf(WorkloadProvider, 3)) || len(ins[i].Value) != LoadValueSize {
			t.Fatalf("key %q with %d-byte value", ins[i].Key, len(ins[i].Value))
		}
		if bytes.Equal(ins[i].Value, upd[i].Value) {
			t.Fatalf("update of %s writes the same value", ins[i].Key)
		}
	}
	if other := loadTx(4, 4); other[0].Key == ins[0].Key {
		t.Fatalf("writers 3 and 4 share key %s", ins[0].Key)
	}
	if next := loadTx(3, 6); next[0].Key == ins[0].Key || next[0].Version != 0 {
		t.Fatalf("round 6 writes %s@%d, want new keys at version 0", next[0].Key, next[0].Version)
	}
	s := signerTx(7)
	if len(s) != SignerKeys || s[0].Version != 7 || len(s[0].Value) != SignerValueSize || !strings.HasPrefix(s[0].Key, signerPrefix) {
		t.Fatalf("signer put 7: %d keys, first %s@%d with %d bytes", len(s), s[0].Key, s[0].Version, len(s[0].Value))
	}
}

func TestCompareAndTargets(t *testing.T) {
	t.Parallel()
	lat := func(p50 time.Duration) Latency { return Latency{Count: 1, P50: p50, P90: p50, P99: p50, Max: p50} }
	results := Compare([]Result{
		{Workload: WorkloadProvider, Mode: ModeOne, ItemsPerSec: 1000, Put: lat(10 * time.Millisecond)},
		{Workload: WorkloadProvider, Mode: ModePlain, ItemsPerSec: 800, Put: lat(12 * time.Millisecond)},
		{Workload: WorkloadProvider, Mode: ModeAtomic, ItemsPerSec: 400, Put: lat(20 * time.Millisecond)},
		{Workload: WorkloadProvider, Mode: ModeSlow, ItemsPerSec: 300, Put: lat(40 * time.Millisecond)},
		{Workload: WorkloadProvider, Mode: ModeNoGroup, ItemsPerSec: 250, Put: lat(30 * time.Millisecond)},
		{Workload: WorkloadSigner, Mode: ModeAtomic, ItemsPerSec: 10, Put: lat(time.Millisecond)},
		{Workload: WorkloadSigner, Mode: ModePlain, ItemsPerSec: 20, Put: Latency{Count: 1, P50: 800 * time.Microsecond, P99: 400 * time.Microsecond}},
	})
	if v := results[1].Versus; v == nil || v.ItemsPerSec != 0.8 || v.PutP50 != 1.2 || v.GetP50 != 0 {
		t.Fatalf("plain vs one: %+v", v)
	}
	if results[5].Versus != nil {
		t.Fatalf("signer run compared with the provider workload's one: %+v", results[5].Versus)
	}
	vs := Targets(results)
	want := map[string]bool{
		"provider: plain items/s ≥ 0.70× one":    true,  // 0.8
		"provider: atomic items/s ≥ 0.50× one":   false, // 0.4
		"provider: atomic items/s ≥ 0.80× plain": false, // 0.5
		"signer: atomic put p50 ≤ 1.30× plain":   true,  // 1.25
		"signer: atomic put p99 ≤ 2.00× plain":   false, // 2.5
		"provider: slow put p50 ≤ 1.50× atomic":  false, // 2
		"provider: one items/s ≥ 3.00× nogroup":  true,  // 4
	}
	if len(vs) != len(want) {
		t.Fatalf("%d verdicts, want %d (the signer ones against one lack their base): %+v", len(vs), len(want), vs)
	}
	for _, v := range vs {
		met, ok := want[v.Target]
		if !ok || v.Met != met {
			t.Errorf("verdict %+v; want target known and met=%v", v, met)
		}
	}
	var out bytes.Buffer
	if err := WriteVerdicts(&out, vs); err != nil || strings.Count(out.String(), "MISSED") != 4 {
		t.Fatalf("verdicts printed (%v):\n%s", err, &out)
	}
}

func TestOptionsRefuseNegativeValues(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{Rounds: -1}, {Writers: -2}, {GetEvery: -1}, {MaxDuration: -time.Second}, {Workload: Workload(9)}} {
		if _, err := Run(context.Background(), Providers{}, ModeOne, o); err == nil {
			t.Errorf("Run accepted %+v", o)
		}
	}
	if _, err := RunLocal(context.Background(), Mode(42), Options{}, Local{}); err == nil || !strings.Contains(err.Error(), "unknown mode") {
		t.Errorf("RunLocal of an unknown mode: %v", err)
	}
}

// TestMaxDurationTruncates runs against a provider slowed well past the run's
// bound: the run stops at the bound, is marked truncated, and counts no error
// for the puts its own deadline cut short.
func TestMaxDurationTruncates(t *testing.T) {
	t.Parallel()
	network, err := testnet.Start(ctxT(t, 30*time.Second), testnet.Config{N: 1, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = network.Close() })
	p := network.Providers()[0]
	env := Providers{Providers: []quorum.ProviderConfig{{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID()}}}
	var progress bytes.Buffer
	// The latency is set once the writer is connected, so only puts are slowed.
	begin := time.Now()
	res, err := Run(ctxT(t, 30*time.Second), slowAfterConnect{env, p}, ModeOne,
		Options{Workload: WorkloadSigner, Rounds: 1000, MaxDuration: 300 * time.Millisecond,
			Progress: &progress, ProgressEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Fatalf("run took %v despite a 300ms bound", took)
	}
	if !res.Truncated || res.Errors != 0 || res.Transactions >= 1000 {
		t.Fatalf("truncated %v, %d errors (%s), %d transactions", res.Truncated, res.Errors, res.FirstError, res.Transactions)
	}
	if !strings.Contains(progress.String(), "bench signer/one: ") {
		t.Fatalf("no progress line: %q", &progress)
	}
}

// slowAfterConnect slows the provider once a writer is connected and warmed up.
type slowAfterConnect struct {
	Providers
	p *testnet.Provider
}

func (s slowAfterConnect) NewWriter(ctx context.Context) (Writer, error) {
	w, err := s.Providers.NewWriter(ctx)
	if err != nil {
		return nil, err
	}
	return &slowWriter{Writer: w, p: s.p}, nil
}

// slowWriter sets the latency on its first put, after the warm-up get.
type slowWriter struct {
	Writer
	p    *testnet.Provider
	slow bool
}

func (w *slowWriter) Put(ctx context.Context, kvs []provider.KV) error {
	if !w.slow {
		w.slow = true
		w.p.SetLatency(100 * time.Millisecond)
	}
	return w.Writer.Put(ctx, kvs)
}
