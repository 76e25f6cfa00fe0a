package quorum_test

import (
	"testing"

	"github.com/lssquorum/lss/quorum"
)

// A network where one provider speaks only the base protocol (a stock server)
// works: reads fall back to the base Get for it, and repair falls back to a
// plain Put where the base protocol allows it and says which keys it cannot fix.
func TestMixedNetworkWithBaseOnlyProvider(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3, 2)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("a", 0, "a0"), kv("b", 0, "b0"))
	settle(t, c)
	res := get(t, c, "")
	wantEntries(t, res, "a@0=a0", "b@0=b0")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.UpToDate, "p1": quorum.UpToDate, "p2": quorum.UpToDate})

	// p2 misses one version of a and two of b.
	stop(t, ps[2])
	put(t, c, kv("a", 1, "a1"), kv("b", 1, "b1"))
	put(t, c, kv("b", 2, "b2"))
	restart(t, ps[2])
	wantStatus(t, get(t, c, ""), map[string]quorum.Status{"p2": quorum.Behind})

	rep, err := c.Repair(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	p2 := rep.Providers[2]
	if len(p2.Restored) != 1 || p2.Restored[0] != (quorum.KeyUpdate{Key: "a", From: 0, To: 1}) {
		t.Errorf("p2 restored %+v, want a v0→v1 by plain put", p2.Restored)
	}
	if len(p2.Unrepairable) != 1 || p2.Unrepairable[0] != (quorum.KeyUpdate{Key: "b", From: 0, To: 2}) {
		t.Errorf("p2 unrepairable %+v, want b v0→v2", p2.Unrepairable)
	}
	if rep.Complete() {
		t.Error("repair claims to be complete with a key left behind")
	}
	if got := direct(t, ps[2], key, "a"); len(got) != 1 || got[0].Version != 1 {
		t.Errorf("p2 holds %v after repair, want a at v1", render(got))
	}

	// A client in the default mode works over the mixed network too.
	auto := newClient(t, net, key, func(cfg *quorum.Config) { cfg.Mode = quorum.ModeAuto })
	put(t, auto, kv("c", 0, "c0"))
	wantEntries(t, get(t, auto, ""), "a@1=a1", "b@2=b2", "c@0=c0")
}
