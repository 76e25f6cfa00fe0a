package quorum_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// G5: after a provider missed writes and another was rolled back, one Repair
// leaves every provider holding the same (key, version, value) set.
func TestG5AfterRepairEveryProviderHoldsTheSameData(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("a", 0, "a0"), kv("b", 0, "b0"))
	settle(t, c)
	snap := snapshot(t, ps[0])
	put(t, c, kv("a", 1, "a1"))
	settle(t, c)
	stop(t, ps[2])
	put(t, c, kv("b", 1, "b1"), kv("c", 0, "c0"))
	rollback(t, ps[0], snap)
	restart(t, ps[2])

	before, err := c.Audit(ctx, "", quorum.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if before.Verdict != quorum.Disagree {
		t.Fatalf("providers agree before repair:\n%s", before.Table())
	}
	rep, err := c.Repair(ctx, "")
	if err != nil || !rep.Complete() {
		t.Fatalf("repair: %+v, %v", rep, err)
	}
	wantIdentical(t, net, key, "", "a@1=a1", "b@1=b1", "c@0=c0")
	after, err := c.Audit(ctx, "", quorum.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Verdict != quorum.Agree {
		t.Errorf("providers disagree after repair:\n%s", after.Table())
	}
}

// A provider that never answers does not hold up Put or Get while a quorum is
// up: both return well within the per-call deadline, and Close waits for the
// write left in flight to it.
func TestBlackholedProviderDoesNotBlock(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	ps := net.Providers()
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) {
		cfg.Grace = 50 * time.Millisecond
	})
	put(t, c, kv("warm", 0, "x")) // connections established

	ps[1].Blackhole()
	defer ps[1].Heal()
	start := time.Now()
	res := put(t, c, kv("k", 0, "v"))
	if took := time.Since(start); took > callTimeout/2 {
		t.Errorf("put took %v with one provider blackholed", took)
	}
	if len(res.Acked) != 2 || len(res.Pending) != 1 || res.Pending[0] != "p1" {
		t.Errorf("put result %+v, want acked by 2 and p1 pending", res)
	}

	start = time.Now()
	got := get(t, c, "")
	if took := time.Since(start); took > callTimeout/2 {
		t.Errorf("get took %v with one provider blackholed", took)
	}
	wantEntries(t, got, "k@0=v", "warm@0=x")
	s := state(t, got, "p1")
	if s.Status != quorum.Unreachable || !strings.Contains(s.Err.Error(), "p1") {
		t.Errorf("p1 = %v (%v), want unreachable, named", s.Status, s.Err)
	}

	start = time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > callTimeout+time.Second {
		t.Errorf("Close took %v, want it bounded by the call timeout", took)
	}
}

// With fewer than a quorum up, Put and Get fail within the deadline with an
// error naming every provider that failed.
func TestBelowQuorumPutAndGetFailNamingProviders(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	c := newClient(t, net, newKey(t))
	put(t, c, kv("k", 0, "v"))

	stop(t, ps[0])
	ps[2].Blackhole()
	defer ps[2].Heal()

	start := time.Now()
	res, err := c.Put(ctx, []provider.KV{kv("k", 1, "v1")})
	var qe *quorum.QuorumError
	if !errors.As(err, &qe) || !errors.Is(err, quorum.ErrNoQuorum) {
		t.Fatalf("put below quorum: %v", err)
	}
	if took := time.Since(start); took > callTimeout+time.Second {
		t.Errorf("failed put took %v", took)
	}
	// p1 acknowledged and p2 timed out, so both may hold the write (p0 too, as
	// far as the client can tell from a reset connection).
	if !slices.Contains(qe.MayHaveReached, "p1") || !slices.Contains(qe.MayHaveReached, "p2") {
		t.Errorf("may have reached %v, want p1 and p2 among them", qe.MayHaveReached)
	}
	for _, want := range []string{"acknowledged by 1 of 3 providers, need 2", "provider p0", "provider p2", "may have reached"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("put error %q does not say %q", err, want)
		}
	}
	if res == nil || len(res.Acked) != 1 || res.Acked[0] != "p1" {
		t.Errorf("put result %+v, want acknowledged by p1 only", res)
	}

	_, err = c.Get(ctx, "")
	if !errors.As(err, &qe) || qe.Op != "get" || qe.Got != 1 {
		t.Fatalf("get below quorum: %v", err)
	}
	for _, want := range []string{"valid replies from 1 of 3 providers, need 2", "provider p0", "provider p2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("get error %q does not say %q", err, want)
		}
	}
}

// A plain put that fails after reaching a minority is not lost: a later Get
// returns it (it wins the merge, its value HMAC verifying) and repair spreads it.
func TestFailedPlainPutConvergesThroughGet(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)
	put(t, c, kv("k", 0, "v0"))
	settle(t, c)

	stop(t, ps[1:]...)
	_, err := c.Put(ctx, []provider.KV{kv("k", 1, "v1")})
	if !errors.Is(err, quorum.ErrNoQuorum) || !strings.Contains(err.Error(), "may have reached p0") {
		t.Fatalf("put with two providers down: %v", err)
	}
	// The writes to the stopped providers end (failed) before they come back,
	// rather than land after the restart.
	settle(t, c)
	restart(t, ps[1:]...)
	res := get(t, c, "")
	wantEntries(t, res, "k@1=v1")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Ahead, "p1": quorum.Behind, "p2": quorum.Behind})
	if _, err := c.Repair(ctx, ""); err != nil {
		t.Fatal(err)
	}
	wantIdentical(t, net, key, "", "k@1=v1")
}

// AutoRepair repairs behind providers in the background after a Get; Close
// waits for it.
func TestAutoRepairAfterGet(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key, func(cfg *quorum.Config) { cfg.AutoRepair = true })

	stop(t, ps[0])
	put(t, c, kv("x", 0, "1"), kv("y", 0, "2"))
	put(t, c, kv("x", 1, "3"))
	restart(t, ps[0])
	res := get(t, c, "")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Behind})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	wantIdentical(t, net, key, "", "x@1=3", "y@0=2")
}

// A put refused by more than N-W providers fails at once, without waiting for a
// provider that never answers, and the error is a conflict naming the providers.
func TestPutRefusedByMajorityFailsWithoutWaiting(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	key := newKey(t)
	c := newClient(t, net, key)
	put(t, c, kv("k", 0, "v0"))
	settle(t, c)

	net.Providers()[2].Blackhole()
	defer net.Providers()[2].Heal()
	// A client without c's watermark (c refuses the stale version itself,
	// before sending anything).
	stale := newClient(t, net, key)
	start := time.Now()
	res, err := stale.Put(ctx, []provider.KV{kv("k", 0, "again")})
	if took := time.Since(start); took > callTimeout/2 {
		t.Errorf("refused put took %v", took)
	}
	if !errors.Is(err, provider.ErrConflict) || !errors.Is(err, quorum.ErrNoQuorum) {
		t.Fatalf("put of a stale version: %v, want a conflict and no quorum", err)
	}
	for _, want := range []string{"provider p0", "provider p1", "version conflict"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if len(res.Pending) != 1 || res.Pending[0] != "p2" {
		t.Errorf("pending = %v, want p2", res.Pending)
	}
	var ce *provider.ConflictError
	if !errors.As(err, &ce) || len(ce.Conflicts) != 1 || ce.Conflicts[0].Version != 0 || string(ce.Conflicts[0].Value) != "v0" {
		t.Errorf("conflict details %+v, want k stored at v0 with value v0", ce)
	}
}

// A slow provider does not slow Put or Get down once a quorum answered: Put
// returns at W acknowledgements, Get after R replies plus the short grace.
func TestSlowProviderDoesNotSlowTheQuorum(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) { cfg.Grace = quorum.DefaultGrace })
	put(t, c, kv("warm", 0, "x"))
	settle(t, c)

	const slow = 800 * time.Millisecond
	net.Providers()[1].SetLatency(slow)
	defer net.Providers()[1].SetLatency(0)
	start := time.Now()
	put(t, c, kv("k", 0, "v"))
	if took := time.Since(start); took >= slow {
		t.Errorf("put took %v with one provider %v slow", took, slow)
	}
	start = time.Now()
	res := get(t, c, "")
	if took := time.Since(start); took >= slow {
		t.Errorf("get took %v with one provider %v slow", took, slow)
	}
	wantEntries(t, res, "k@0=v", "warm@0=x")
	if s := state(t, res, "p1"); s.Status != quorum.Unreachable || !strings.Contains(s.Error, "grace") {
		t.Errorf("slow p1 = %v (%s), want not awaited", s.Status, s.Error)
	}
}
