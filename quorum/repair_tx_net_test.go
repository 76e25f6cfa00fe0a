package quorum_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/lssquorum/lss/quorum"
)

// Repair meets a provider that holds a committed transaction prepared only (its
// Commit was cut, and the coordinator's settler cannot reach it) while a later
// put overwrote one of that transaction's keys. The merged state holds only part
// of the transaction's writes, which the provider refuses to apply as its
// settlement (a settling Restore must carry exactly the prepared writes), and
// the later put's write is blocked by the reservation. Repair hands the
// transactions to recovery, which commits the prepared one there with its
// proofs; the provider then catches up, and its state is closed throughout.
func TestRepairRecoversATransactionThePlanCannotSettle(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c, cut := atomicThrough(t, net, key, 2, func(cfg *quorum.Config) { cfg.SettleDeadline = time.Hour })
	put(t, c, kv("a", 0, "a0"), kv("b", 0, "b0"))
	settle(t, c)
	cut.failWith(codes.Unavailable, "Commit", "Restore")
	put(t, c, kv("a", 1, "a1"), kv("b", 1, "b1"))
	put(t, c, kv("b", 2, "b2"))
	if n := preparedOn(t, ps[2], key); n != 1 {
		t.Fatalf("p2 holds %d transactions prepared, want the first put's", n)
	}
	if got := fmt.Sprint(render(direct(t, ps[2], key, ""))); got != "[a@0=a0 b@0=b0]" {
		t.Fatalf("p2 holds %s", got)
	}

	// Another process repairs. It recovers the transaction once it is no
	// longer young (four call timeouts: its coordinator may be at work).
	r := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Timeout = time.Second
	})
	rep, err := r.Repair(ctx, "")
	if err != nil || rep.Providers[2].Err == nil {
		t.Fatalf("first repair: %v, p2: %v; want p2 to refuse the partial settlement", err, rep.Providers[2].Err)
	}
	eventually(t, "repair brings p2 to the merged state", func() bool {
		if _, err := r.Repair(ctx, ""); err != nil {
			t.Logf("repair: %v", err)
		}
		es := direct(t, ps[2], key, "")
		// The first put wrote a@1 and b@1: holding one of them at that
		// version and the other older is half of it.
		if len(es) != 2 || (es[0].Version == 1 && es[1].Version == 0) || (es[0].Version == 0 && es[1].Version == 1) {
			t.Errorf("p2 holds %v: not closed", render(es))
		}
		return fmt.Sprint(render(es)) == "[a@1=a1 b@2=b2]"
	})
	if n := preparedOn(t, ps[2], key); n != 0 {
		t.Errorf("p2 still holds %d transactions prepared", n)
	}
	wantEntries(t, get(t, r, ""), "a@1=a1", "b@2=b2")
}
