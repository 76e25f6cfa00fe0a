package quorum_test

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// A network that answers a provider's Abort with FAILED_PRECONDITION, which is
// how lssd says "that transaction is committed here" and which nothing
// authenticates, must neither turn a definite abort into an indeterminate
// outcome nor make the client give up on that provider: the put fails as
// aborted (it was decided by authenticated fences), and once the network
// stops lying the client's own settler releases the provider's reservation,
// with no Recover, Get or Put of the key to prompt it. The aborted value is
// never read. Before the client checked such an answer with a Fence (whose
// reply is authenticated), the put reported a split that never happened and
// the provider stayed prepared, its key reserved, until something else
// recovered the transaction.
func TestAdversaryForgedCommittedOnAbortIsCheckedAndSettled(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	key := newKey(t)
	ps := net.Providers()
	c, m := atomicThrough(t, net, key, 2, func(cfg *quorum.Config) {
		cfg.DisableEncryption = true // so that the direct writes below read back
	})

	// p0 and p1 refuse the put by the version rule: fenced, the put is aborted.
	for _, p := range ps[:2] {
		cl := dialQuorum(t, p, key)
		if err := cl.Put(ctx, []provider.KV{kv("k", 0, "someone else")}); err != nil {
			t.Fatal(err)
		}
		cl.Close()
	}
	m.failWith(codes.FailedPrecondition, "Abort")
	_, err := c.Put(ctx, []provider.KV{kv("k", 0, "aborted")})
	if !errors.Is(err, quorum.ErrTxAborted) {
		t.Fatalf("put: %v, want a definite abort: the network's unauthenticated FAILED_PRECONDITION proves no commit", err)
	}
	if n := preparedOn(t, ps[2], key); n != 1 {
		t.Fatalf("p2 holds %d transactions prepared, want the aborted put's (its Abort never arrived)", n)
	}

	m.heal()
	eventually(t, "the client's settler releases p2's reservation", func() bool {
		return preparedOn(t, ps[2], key) == 0
	})
	for _, p := range ps {
		for _, e := range direct(t, p, key, "k") {
			if bytes.Contains(e.Value, []byte("aborted")) {
				t.Errorf("%s holds the aborted value: %s@%d", p.Name(), e.Key, e.Version)
			}
		}
	}
	wantEntries(t, get(t, c, ""), "k@0=someone else")
}
