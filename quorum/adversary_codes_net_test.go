package quorum_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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
	putDirectly(ctx, t, ps[:2], key, kv("k", 0, "someone else"))
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

// The network answers every extension call to p2 with a status code of its
// choosing (what lssd says for an unknown txid, a refused transition, a quota,
// a missing method, or something it never says), forwarding nothing. None of
// them is authenticated, so none says anything about p2: puts are acknowledged
// by p0 and p1 alone, never counting p2, and stay atomic; reads name p2 as
// unreachable, never as up to date or behind (which an answer read as an empty
// listing would make it); Recover leaves nothing prepared. Once the network
// stops, the client's own settler brings p2 level.
func TestAdversaryStatusCodesFromTheNetworkSayNothing(t *testing.T) {
	t.Parallel()
	for _, code := range []codes.Code{codes.NotFound, codes.FailedPrecondition, codes.ResourceExhausted,
		codes.Unimplemented, codes.AlreadyExists, codes.PermissionDenied} {
		t.Run(code.String(), func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			net := startNet(t, 3)
			key := newKey(t)
			ps := net.Providers()
			c, m := atomicThrough(t, net, key, 2, func(cfg *quorum.Config) { cfg.DisableEncryption = true })
			put(t, c, kv("k", 0, "v0"))
			settle(t, c)

			m.failWith(code, "BoundGet", "Prepare", "Commit", "Fence", "Abort", "Restore", "Status")
			res := put(t, c, kv("k", 1, "v1"), kv("j", 0, "w0"))
			if res.Mode != quorum.ModeAtomic || slices.Contains(res.Acked, "p2") || len(res.Weakened) != 0 {
				t.Errorf("put: %+v, want atomic, acknowledged without p2", res)
			}
			got := get(t, c, "")
			wantEntries(t, got, "j@0=w0", "k@1=v1")
			if s := state(t, got, "p2"); s.Status != quorum.Unreachable && s.Status != quorum.Faulty {
				t.Errorf("get: p2 is %v (%v), want it unreachable or faulty", s.Status, s.Err)
			}
			if _, err := c.Recover(ctx); err != nil {
				t.Fatalf("recover: %v", err)
			}
			for _, p := range ps[:2] {
				if n := preparedOn(t, p, key); n != 0 {
					t.Errorf("%s holds %d transactions prepared", p.Name(), n)
				}
			}

			m.heal()
			eventually(t, "the settler brings p2 level", func() bool {
				return slices.Equal(render(direct(t, ps[2], key, "")), []string{"j@0=w0", "k@1=v1"}) && preparedOn(t, ps[2], key) == 0
			})
			if s := state(t, get(t, c, ""), "p2"); s.Status != quorum.UpToDate {
				t.Errorf("after the network healed, p2 is %v (%v)", s.Status, s.Err)
			}
		})
	}
}

// The network answers p2's Commit with NOT_FOUND ("never prepared") or
// FAILED_PRECONDITION ("aborted") after p2 prepared, and keeps doing so. The
// transaction is decided committed; the client settles p2 with an
// all-or-nothing Restore carrying the txid and proofs, which p2 applies as the
// settlement of its prepared record: p2 ends holding the put certified with
// nothing left prepared, though its Commit never got through.
func TestAdversaryRefusedCommitIsSettledByRestore(t *testing.T) {
	t.Parallel()
	for _, code := range []codes.Code{codes.NotFound, codes.FailedPrecondition} {
		t.Run(code.String(), func(t *testing.T) {
			t.Parallel()
			net := startNet(t, 3)
			key := newKey(t)
			ps := net.Providers()
			c, m := atomicThrough(t, net, key, 2, func(cfg *quorum.Config) { cfg.DisableEncryption = true })
			m.failWith(code, "Commit")
			put(t, c, kv("a", 0, "x"), kv("b", 0, "y"))
			eventually(t, "p2 holds the put certified, nothing prepared", func() bool {
				es := direct(t, ps[2], key, "")
				return slices.Equal(render(es), []string{"a@0=x", "b@0=y"}) && es[0].Certified && es[1].Certified &&
					preparedOn(t, ps[2], key) == 0
			})
			if s := state(t, get(t, c, ""), "p2"); s.Status != quorum.UpToDate {
				t.Errorf("p2 is %v (%v), want up to date", s.Status, s.Err)
			}
		})
	}
}

// The network answers one method of p2 (BoundGet) with UNAVAILABLE while a
// read of p2's records (Status) is in flight on the same connection. The
// client drops a connection that answered UNAVAILABLE, so that a restarted
// provider is dialed afresh; it must not kill the calls still in flight on it,
// which the provider is answering well: the records of p2 are read. Before
// dropped connections were closed only after their calls' deadline, the read
// of the records failed with "the client connection is closing" and named p2
// unreachable.
func TestAdversaryUnavailableForOneCallSparesTheOthers(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	key := newKey(t)
	ps := net.Providers()
	c, m := atomicThrough(t, net, key, 2)
	put(t, c, kv("k", 0, "v0"))
	settle(t, c)

	ps[2].SetLatency(300 * time.Millisecond)
	defer ps[2].SetLatency(0)
	m.failWith(codes.Unavailable, "BoundGet")
	type result struct {
		read *quorum.TxReport
		err  error
	}
	done := make(chan result, 1)
	go func() {
		read, err := c.Transactions(ctx)
		done <- result{read, err}
	}()
	time.Sleep(100 * time.Millisecond) // the Status call is on its way to p2
	res := get(t, c, "")
	if s := state(t, res, "p2"); s.Status != quorum.Unreachable || !strings.Contains(fmt.Sprint(s.Err), "refused by the man in the middle") {
		t.Fatalf("get: p2 is %v (%v), want unreachable by the network's UNAVAILABLE", s.Status, s.Err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("transactions: %v", r.err)
	}
	if why, ok := r.read.Unreachable["p2"]; ok {
		t.Errorf("p2's records were not read: %s; only its BoundGet was refused", why)
	}
}

// A recovery aborts as the coordinator does: the network lets p2's Abort
// through, so p2 aborts, but answers FAILED_PRECONDITION ("committed"), which
// nothing authenticates. The recovery checks with a Fence, whose reply is
// authenticated, finds p2 aborted and reports the transaction settled; it
// used to report the abort failed and the transaction unsettled.
func TestAdversaryForgedCommittedOnARecoveryAbort(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	key := newKey(t)
	ps := net.Providers()
	c, m := atomicThrough(t, net, key, 2, func(cfg *quorum.Config) { cfg.DisableEncryption = true })

	// p0 and p1 refuse the put by the version rule, so it is aborted; p2's
	// Abort never arrives, and the put's client is gone before it could settle.
	putDirectly(ctx, t, ps[:2], key, kv("k", 0, "someone else"))
	m.failWith(codes.Unavailable, "Abort")
	if _, err := c.Put(ctx, []provider.KV{kv("k", 0, "aborted")}); !errors.Is(err, quorum.ErrTxAborted) {
		t.Fatalf("put: %v, want a definite abort", err)
	}
	if err := c.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if n := preparedOn(t, ps[2], key); n != 1 {
		t.Fatalf("p2 holds %d transactions prepared, want the aborted put's", n)
	}

	m.heal()
	m.forgeStatus(codes.FailedPrecondition, "Abort")
	// Another process of the same client, with no memory of the abort.
	rc := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[2].Addr = m.addr
		cfg.DisableEncryption = true
	})
	report, err := rc.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Transactions) != 1 {
		t.Fatalf("recovered %d transactions, want the aborted put's: %+v", len(report.Transactions), report)
	}
	if tx := report.Transactions[0]; !tx.Settled || tx.Decision != quorum.DecidedAbort {
		t.Errorf("recovery: decision %v, settled %v, actions %q; want aborted and settled (p2's Abort took)", tx.Decision, tx.Settled, tx.Actions)
	}
	if n := preparedOn(t, ps[2], key); n != 0 {
		t.Errorf("p2 still holds %d transactions prepared", n)
	}
}
