package quorum_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// TestEquivocatingProviderCannotCommitAnAbortOfThisClient: a provider keeps
// the Prepare it was sent but answers the coordinator "aborted"; with a second
// provider fenced, the coordinator decides abort and the put fails. The one
// honest provider that prepared never gets its Abort. The records now show the
// transaction prepared on W (the honest one, and the liar showing the prepare
// it kept), so a recovery deciding by the records alone would commit the put
// whose caller was told it failed. This client remembers the abort in its
// watermark store, so a recovery of a later process of it aborts the
// transaction instead, and names the lie.
func TestEquivocatingProviderCannotCommitAnAbortOfThisClient(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := equivocate(t)

	// What the records alone decide: commit (the scenario reached the lie).
	byRecords, err := newClient(t, e.net, e.key, e.through(false)).Transactions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(byRecords.Pending) != 1 || !bytes.Equal(byRecords.Pending[0].TxID, e.txid) || byRecords.Pending[0].Decision != quorum.DecidedCommit {
		t.Fatalf("without the client's memory the records decide %+v, want the put's transaction decided committed", byRecords.Pending)
	}

	// A later process of this client, with its watermark store.
	later := newClient(t, e.net, e.key, e.through(true))
	rec := recoveryOf(t, later, e.txid)
	if rec.Decision != quorum.DecidedAbort || !rec.AbortedHere {
		t.Fatalf("recover decided %v (aborted here: %v), want abort: %v", rec.Decision, rec.AbortedHere, rec.Actions)
	}
	if !slices.ContainsFunc(rec.Actions, func(a string) bool { return strings.Contains(a, "lied") }) {
		t.Errorf("recover does not say a provider lied: %v", rec.Actions)
	}
	e.honest.heal()
	settle(t, later)
	if _, err := later.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.net.Providers() {
		if got := render(direct(t, p, e.key, "")); len(got) != 0 {
			t.Errorf("%s holds %v, want nothing: the put was aborted", p.Name(), got)
		}
	}
	if got, err := later.Transactions(ctx); err != nil || len(got.Pending) != 0 {
		t.Errorf("after recovery: pending %+v, %v; want none", got, err)
	}
}

// TestAbortMemoryYieldsToACommitProof: a recovery without this client's memory
// committed the equivocated transaction on one provider before another's
// Commit failed. The client that remembers aborting it finds the commit proof
// and settles the rest the same way: the providers end committed alike, not
// split.
func TestAbortMemoryYieldsToACommitProof(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := equivocate(t)
	e.honest.failWith(codes.Unavailable, "Commit", "Abort")
	if _, err := newClient(t, e.net, e.key, e.through(false)).Recover(ctx); err != nil {
		t.Fatal(err)
	}
	rec := recoveryOf(t, newClient(t, e.net, e.key, e.through(true)), e.txid)
	if rec.Decision != quorum.DecidedCommit || len(rec.Proven) == 0 {
		t.Fatalf("recover decided %v (proven by %v), want commit by the proof: %v", rec.Decision, rec.Proven, rec.Actions)
	}
	e.honest.heal()
	if _, err := newClient(t, e.net, e.key, e.through(true)).Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.net.Providers() {
		if got := render(direct(t, p, e.key, "")); !slices.Equal(got, []string{"k@0=aborted"}) {
			t.Errorf("%s holds %v, want the value the proof certifies", p.Name(), got)
		}
	}
}

// equivocation is a network where this client's put was decided aborted
// because p2 lied (it kept the Prepare and answered "aborted") and p1 was
// fenced, while p0, honest, holds the transaction prepared: its Abort is
// refused by its man in the middle until a test heals it.
type equivocation struct {
	net                  *testnet.Network
	key                  *secp256k1.PrivateKey
	honest, fenced, liar *mitm
	txid                 []byte
	// through routes a client through the men in the middle, with the
	// watermark store of the client that put (store) or none.
	through func(store bool) func(*quorum.Config)
}

func equivocate(t *testing.T) *equivocation {
	t.Helper()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	e := &equivocation{net: net, key: newKey(t),
		honest: startMITM(t, ps[0].Addr()), fenced: startMITM(t, ps[1].Addr()), liar: startMITM(t, ps[2].Addr())}
	watermark := filepath.Join(t.TempDir(), "watermark.json")
	e.through = func(store bool) func(*quorum.Config) {
		return func(cfg *quorum.Config) {
			cfg.Mode = quorum.ModeAtomic
			cfg.Providers[0].Addr, cfg.Providers[1].Addr, cfg.Providers[2].Addr = e.honest.addr, e.fenced.addr, e.liar.addr
			if store {
				cfg.Watermarks = quorum.OpenWatermarkFile(watermark, wire.PublicID(e.key))
			}
		}
	}
	c := newClient(t, net, e.key, e.through(true))
	secret := sharedSecret(t, e.key, ps[2].ServerID())
	e.liar.rewrite(func(method string, req, rep proto.Message) proto.Message {
		if method != "Prepare" {
			return rep
		}
		// Prepared (the server holds it), but "aborted" to the coordinator.
		txid := req.(*lsspb.PrepareRequest).GetTxid()
		st := lsspb.TxState_TX_ABORTED
		return &lsspb.TxReply{State: st, Hmac: wire.TxReplyMAC(secret, wire.DomainPrepareReply, txid, st, nil)}
	})
	e.fenced.failWith(codes.Unavailable, "Prepare")
	e.honest.failWith(codes.Unavailable, "Abort")
	_, err := c.Put(ctx, []provider.KV{kv("k", 0, "aborted")})
	var txErr *quorum.TxError
	if !errors.Is(err, quorum.ErrTxAborted) || !errors.As(err, &txErr) {
		t.Fatalf("put: %v, want a definite abort", err)
	}
	e.txid = txErr.TxID
	if w := c.Watermark(); len(w.Aborted) != 1 {
		t.Fatalf("the client remembers %d aborts, want the put's", len(w.Aborted))
	}
	c.Close()
	e.liar.rewrite(nil)
	e.fenced.heal()
	return e
}

// recoveryOf runs c's Recover and returns what it did with txid.
func recoveryOf(t *testing.T, c *quorum.Client, txid []byte) quorum.TxRecovery {
	t.Helper()
	report, err := c.Recover(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(report.Transactions, func(r quorum.TxRecovery) bool { return bytes.Equal(r.TxID, txid) })
	if i < 0 {
		t.Fatalf("recover did not meet transaction %x: %+v", txid, report)
	}
	return report.Transactions[i]
}
