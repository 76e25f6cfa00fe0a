package quorum_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// Issue 9, observation 3 (torn read): a provider that missed the prepare of an
// atomic put is settled with a Restore while an earlier, stale reservation
// holds one of the put's keys there. The Restore is all or nothing, so that
// provider holds the whole put or none of it, never one key at the new version
// and the other at the old; and a quorum Get that merges it with a provider
// whose Commit has not landed (prepared only, the old values in its data) never
// returns a mix of old and new values. A concurrent reader checks every read
// throughout; each step also checks the provider directly.
//
// The reader is pointed at exactly those two providers (the third is cut off
// from it), which is where a key-by-key Restore tears the read: the merge then
// takes the new version of one key from the settled provider and the old one of
// the other key from both.
func TestObservation3NoTornRead(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	commits := startMITM(t, ps[1].Addr()) // cuts p1's Commits for the writer
	hide := startMITM(t, ps[0].Addr())    // hides p0 from the reader
	hide.failWith(codes.Unavailable, "BoundGet")
	w := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[1].Addr = commits.addr
	})
	r := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[0].Addr = hide.addr
		cfg.Grace = -1 // the first R replies: p1 and p2
	})
	put(t, w, kv("a", 0, "a0"), kv("b", 0, "b0"))
	settle(t, w)

	// The concurrent reader: every successful read holds a and b at one
	// version, with that version's values.
	reader := readConcurrently(ctx, t, r, "", func(res *quorum.GetResult) bool {
		a, okA := res.Value("a")
		b, okB := res.Value("b")
		return okA && okB && a.Version == b.Version &&
			string(a.Value) == fmt.Sprintf("a%d", a.Version) && string(b.Value) == fmt.Sprintf("b%d", b.Version)
	})
	closed := func(step string) {
		t.Helper()
		es := direct(t, ps[2], key, "")
		if len(es) != 2 || es[0].Version != es[1].Version {
			t.Errorf("%s: p2 holds %v: half of an atomic put", step, render(es))
		}
	}

	cl := dialQuorum(t, ps[2], key)
	defer cl.Close()
	q := participants(net, 2)
	for v := int64(1); v <= 3; v++ {
		// A stale reservation of b on p2 only: a transaction whose
		// coordinator went away after preparing there. It is young, so the
		// put leaves it alone rather than race its coordinator.
		stale := stampedTxID(t, time.Now())
		es := cl.SealTx(stale, []provider.KV{kv("b", v, "stale")})
		if _, err := cl.Prepare(ctx, stale, q, cl.PrepareSeal(stale, q, es), es); err != nil {
			t.Fatalf("v%d: stale prepare on p2: %v", v, err)
		}
		// p2 refuses the put's prepare (b is reserved), p0 and p1 prepare
		// it: committed. p0 commits, p1's Commit is cut, and p2 is settled
		// with a Restore that the reservation blocks.
		commits.failWith(codes.Unavailable, "Commit")
		_, err := w.Put(ctx, []provider.KV{kv("a", v, fmt.Sprintf("a%d", v)), kv("b", v, fmt.Sprintf("b%d", v))})
		t.Logf("v%d: put: %v", v, err)
		if got := render(direct(t, ps[0], key, "")); fmt.Sprint(got) != fmt.Sprintf("[a@%d=a%d b@%d=b%d]", v, v, v, v) {
			t.Fatalf("v%d: p0 holds %v, want the put committed", v, got)
		}
		closed(fmt.Sprintf("v%d, reservation held", v))
		// Reads now: p1 holds the put prepared only, p2 the old values.
		for range 5 {
			res, err := r.Get(ctx, "")
			if err != nil {
				t.Fatalf("v%d: get: %v", v, err)
			}
			wantEntries(t, res, fmt.Sprintf("a@%d=a%d", v-1, v-1), fmt.Sprintf("b@%d=b%d", v-1, v-1))
		}
		// The reservation's owner aborts it and p1's Commits get through:
		// the writer's settler finishes both providers.
		if err := cl.Abort(ctx, stale); err != nil {
			t.Fatalf("v%d: abort of the stale reservation: %v", v, err)
		}
		commits.heal()
		eventually(t, fmt.Sprintf("v%d settled on p1 and p2", v), func() bool {
			for _, p := range ps[1:] {
				es := direct(t, p, key, "")
				if len(es) != 2 || es[0].Version != v || es[1].Version != v {
					return false
				}
			}
			return true
		})
		closed(fmt.Sprintf("v%d, settled", v))
		wantEntries(t, get(t, r, ""), fmt.Sprintf("a@%d=a%d", v, v), fmt.Sprintf("b@%d=b%d", v, v))
	}
	reader.finish(t)
}
