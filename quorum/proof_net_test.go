package quorum_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// A commit proof in a provider's data decides a transaction by itself
// (quorum/recover_proofs.go), and a read that finds a committed put still
// landing settles it before returning (quorum/merge_landing.go).

// craftedTx is an atomic put of the test's own making, through direct
// provider clients, so that each provider can be left in the state the test
// needs: prepared, committed, or holding the values with their proofs and no
// record (as after its committed record was pruned).
type craftedTx struct {
	txid    []byte
	q       provider.Quorum
	entries []provider.Entry // in key order
}

func craftTx(t *testing.T, cl *provider.Client, q provider.Quorum, kvs ...provider.KV) craftedTx {
	t.Helper()
	txid := stampedTxID(t, time.Now().Add(-time.Hour)) // old: no coordinator is at work on it
	return craftedTx{txid: txid, q: q, entries: cl.SealTx(txid, kvs)}
}

func (x craftedTx) prepare(t *testing.T, ctx context.Context, cl *provider.Client) {
	t.Helper()
	if _, err := cl.Prepare(ctx, x.txid, x.q, cl.PrepareSeal(x.txid, x.q, x.entries), x.entries); err != nil {
		t.Fatalf("prepare on %s: %v", cl.Name(), err)
	}
}

func (x craftedTx) commit(t *testing.T, ctx context.Context, cl *provider.Client) {
	t.Helper()
	if err := cl.Commit(ctx, x.txid, cl.CommitProofs(x.txid, x.entries)); err != nil {
		t.Fatalf("commit on %s: %v", cl.Name(), err)
	}
}

// restore gives cl the values with their proofs and no record.
func (x craftedTx) restore(t *testing.T, ctx context.Context, cl *provider.Client) {
	t.Helper()
	es := make([]provider.Entry, len(x.entries))
	proofs := cl.CommitProofs(x.txid, x.entries)
	for i, e := range x.entries {
		e.TxID, e.Proof = x.txid, proofs[i]
		es[i] = e
	}
	if _, kept, err := cl.Restore(ctx, es); err != nil || len(kept) > 0 {
		t.Fatalf("restore on %s: kept %v, err %v", cl.Name(), kept, err)
	}
}

// plaintext reads and writes values without encryption, so that the test's
// crafted values read back as they were written.
func plaintext(cfg *quorum.Config) {
	cfg.Mode = quorum.ModeAtomic
	cfg.DisableEncryption = true
}

// craftedNet is three real providers whose client has written base (settled
// everywhere), with a direct provider client to each, closed with the test.
type craftedNet struct {
	net *testnet.Network
	ps  []*testnet.Provider
	key *secp256k1.PrivateKey
	cls []*provider.Client
}

func startCraftedNet(t *testing.T, base ...provider.KV) craftedNet {
	t.Helper()
	return craftedNetOn(t, startNet(t, 3), base...)
}

// craftedNetOn is startCraftedNet on a network of the test's own.
func craftedNetOn(t *testing.T, net *testnet.Network, base ...provider.KV) craftedNet {
	t.Helper()
	f := craftedNet{net: net, ps: net.Providers(), key: newKey(t)}
	w := newClient(t, net, f.key, plaintext)
	put(t, w, base...)
	settle(t, w)
	for _, p := range f.ps {
		cl := dialQuorum(t, p, f.key)
		t.Cleanup(func() { cl.Close() })
		f.cls = append(f.cls, cl)
	}
	return f
}

// recoverOne runs Recover from a fresh client and returns what it did for the
// one transaction it must have found.
func (f craftedNet) recoverOne(t *testing.T, ctx context.Context) quorum.TxRecovery {
	t.Helper()
	report, err := newClient(t, f.net, f.key, plaintext).Recover(ctx)
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if len(report.Transactions) != 1 {
		t.Fatalf("recover settled %d transactions, want 1: %+v", len(report.Transactions), report)
	}
	return report.Transactions[0]
}

// Two providers committed a put and later pruned their committed records (lssd
// deletes decided records after their retention), while the third kept it
// prepared all along. The records alone show one prepared view and two
// providers that know nothing: fencing them would decide an abort of an
// acknowledged put. The proof in the first two's data decides the commit, and
// the third is committed.
func TestRecoverDecidesCommitOnAProofInTheData(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	f := startCraftedNet(t, kv("a", 0, "a0"), kv("b", 0, "b0"))
	net, ps, key, cls := f.net, f.ps, f.key, f.cls
	x := craftTx(t, cls[0], participants(net, 2), kv("a", 1, "a1"), kv("b", 1, "b1"))
	x.restore(t, ctx, cls[0])
	x.restore(t, ctx, cls[1])
	x.prepare(t, ctx, cls[2])

	tx := f.recoverOne(t, ctx)
	t.Logf("recover: %v", tx.Actions)
	if tx.Decision != quorum.DecidedCommit || !tx.Settled {
		t.Fatalf("decision %v, settled %v, want a settled commit (actions %v)", tx.Decision, tx.Settled, tx.Actions)
	}
	if len(tx.Proven) != 2 || tx.Proven[0] != ps[0].Name() || tx.Proven[1] != ps[1].Name() {
		t.Errorf("proven by %v, want %s and %s", tx.Proven, ps[0].Name(), ps[1].Name())
	}
	wantIdentical(t, net, key, "", "a@1=a1", "b@1=b1")
	// Nothing was fenced: the providers that pruned their records hold none.
	for _, cl := range cls[:2] {
		txs, err := cl.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range txs {
			if bytes.Equal(rec.TxID, x.txid) {
				t.Errorf("%s holds a %v record of the committed transaction", cl.Name(), rec.State)
			}
		}
	}
}

// The same, with the committed records deleted by lssd itself once their
// retention passed (shortened here from seven days to a fraction of a second),
// while the third provider kept the transaction prepared.
func TestRecoverAfterTheCommittedRecordsWerePruned(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := quorum.HarnessNetConfig(t, testnet.Config{N: 3, Retention: 200 * time.Millisecond, PruneInterval: 20 * time.Millisecond})
	f := craftedNetOn(t, net, kv("a", 0, "a0"), kv("b", 0, "b0"))
	x := craftTx(t, f.cls[0], participants(net, 2), kv("a", 1, "a1"), kv("b", 1, "b1"))
	for _, cl := range f.cls {
		x.prepare(t, ctx, cl)
	}
	x.commit(t, ctx, f.cls[0])
	x.commit(t, ctx, f.cls[1])
	eventually(t, "the committed records pruned", func() bool {
		for _, cl := range f.cls[:2] {
			txs, err := cl.Status(ctx)
			if err != nil || slices.ContainsFunc(txs, func(r provider.Transaction) bool { return bytes.Equal(r.TxID, x.txid) }) {
				return false
			}
		}
		return true
	})

	tx := f.recoverOne(t, ctx)
	if tx.Decision != quorum.DecidedCommit || !tx.Settled || len(tx.Proven) != 2 {
		t.Fatalf("decision %v, settled %v, proven by %v; want a commit the first two prove (actions %v)",
			tx.Decision, tx.Settled, tx.Proven, tx.Actions)
	}
	wantIdentical(t, net, f.key, "", "a@1=a1", "b@1=b1")
}

// A provider's proof counts only for the transaction, key, version and value
// it was made for: the same setup, but the first two providers hold the keys
// with the proofs of another transaction of the same values. Nothing proves
// this one committed, so the fences decide it aborted, as before proofs were
// looked for.
func TestRecoverIgnoresAnotherTransactionsProof(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	f := startCraftedNet(t, kv("a", 0, "a0"), kv("b", 0, "b0"))
	net, cls := f.net, f.cls
	q := participants(net, 2)
	other := craftTx(t, cls[0], q, kv("a", 1, "a1"), kv("b", 1, "b1"))
	other.restore(t, ctx, cls[0])
	other.restore(t, ctx, cls[1])
	x := craftTx(t, cls[0], q, kv("a", 1, "a1"), kv("b", 1, "b1"))
	x.prepare(t, ctx, cls[2])

	tx := f.recoverOne(t, ctx)
	if tx.Decision != quorum.DecidedAbort || len(tx.Proven) != 0 {
		t.Errorf("decision %v, proven by %v; want an abort with no proof (actions %v)", tx.Decision, tx.Proven, tx.Actions)
	}
}

// A read going back in time while a commit lands. A put committed on p0 only:
// p1 and p2 hold it prepared (their Commits are late). A read of all three
// finds the certified value on one provider and the same value prepared on the
// others; a later read from p1 and p2 alone must not return the older value.
// Before reads settled such a put, the first read returned a1 and the second
// a0.
func TestReadSettlesACommitStillLanding(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	f := startCraftedNet(t, kv("a", 0, "a0"), kv("b", 0, "b0"))
	net, ps, key, cls := f.net, f.ps, f.key, f.cls
	x := craftTx(t, cls[0], participants(net, 2), kv("a", 1, "a1"), kv("b", 1, "b1"))
	for _, cl := range cls {
		x.prepare(t, ctx, cl)
	}
	x.commit(t, ctx, cls[0])

	all := newClient(t, net, key, plaintext)
	res, err := all.Get(ctx, "")
	if err != nil {
		t.Fatalf("first read: %v", err)
	}
	wantEntries(t, res, "a@1=a1", "b@1=b1")

	hide := startMITM(t, ps[0].Addr())
	hide.failWith(codes.Unavailable, "BoundGet")
	later := newClient(t, net, key, func(cfg *quorum.Config) {
		plaintext(cfg)
		cfg.Providers[0].Addr = hide.addr
	})
	wantEntries(t, get(t, later, ""), "a@1=a1", "b@1=b1")
	for _, p := range ps {
		if got := render(direct(t, p, key, "")); len(got) != 2 || got[0] != "a@1=a1" || got[1] != "b@1=b1" {
			t.Errorf("%s holds %v after the read, want the put committed", p.Name(), got)
		}
	}
}

// When the landing commit cannot be settled (the providers where it is
// prepared refuse every Commit and Restore), the read does not return it: it is
// an *UnconfirmedError naming the keys, as for a plain value short of W.
func TestReadOfACommitThatCannotLandIsUnconfirmed(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	f := startCraftedNet(t, kv("a", 0, "a0"))
	net, ps, key, cls := f.net, f.ps, f.key, f.cls
	x := craftTx(t, cls[0], participants(net, 2), kv("a", 1, "a1"))
	for _, cl := range cls {
		x.prepare(t, ctx, cl)
	}
	x.commit(t, ctx, cls[0])

	cut := []*mitm{startMITM(t, ps[1].Addr()), startMITM(t, ps[2].Addr())}
	r := newClient(t, net, key, func(cfg *quorum.Config) {
		plaintext(cfg)
		for i, m := range cut {
			m.failWith(codes.Unavailable, "Commit", "Restore")
			cfg.Providers[i+1].Addr = m.addr
		}
	})
	res, err := r.Get(ctx, "")
	var unconfirmed *quorum.UnconfirmedError
	if !errors.As(err, &unconfirmed) || len(unconfirmed.Keys) != 1 || unconfirmed.Keys[0].Key != "a" {
		t.Fatalf("get = %v, want an *UnconfirmedError for a", err)
	}
	if res == nil || len(res.Entries) != 0 {
		t.Errorf("get returned entries %v with the error", res)
	}
}

// The settle of a landing commit asks only the providers that answered the
// read: one that did not (here its BoundGet fails; a partitioned one would
// hold the read up for a whole call timeout) is left to the background
// settler, and the read still returns once the others hold the put.
func TestReadSettlesOnlyProvidersThatAnswered(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	f := startCraftedNet(t, kv("a", 0, "a0"))
	x := craftTx(t, f.cls[0], participants(f.net, 2), kv("a", 1, "a1"))
	for _, cl := range f.cls {
		x.prepare(t, ctx, cl)
	}
	x.commit(t, ctx, f.cls[0])

	away := startMITM(t, f.ps[2].Addr())
	away.failWith(codes.Unavailable, "BoundGet")
	var mu sync.Mutex
	asked := map[string]int{}
	away.watch(func(method string, _ proto.Message) {
		mu.Lock()
		defer mu.Unlock()
		asked[method]++
	})
	r := newClient(t, f.net, f.key, func(cfg *quorum.Config) {
		plaintext(cfg)
		cfg.Providers[2].Addr = away.addr
	})
	wantEntries(t, get(t, r, ""), "a@1=a1")
	if got := render(direct(t, f.ps[1], f.key, "")); len(got) != 1 || got[0] != "a@1=a1" {
		t.Errorf("p1 holds %v after the read, want the put committed", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, method := range []string{"Status", "Commit", "Restore", "Fence"} {
		if asked[method] > 0 {
			t.Errorf("the read's settle sent %d %s to the provider that did not answer it", asked[method], method)
		}
	}
}

// A committed put found on fewer than W of the providers that answered, and
// that the settle cannot land: p0 committed it, p2 holds it prepared but is
// away, and p1 never prepared it, so no provider the read heard holds it
// prepared and there is nothing to commit. Returning a1 would let a later read
// from p1 and p2 return a0: a read going back in time. The read is unconfirmed
// instead, and once p2 is back the reader's background settler lands the put
// everywhere.
func TestReadOfACommitShortOfWAfterTheSettleIsUnconfirmed(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	f := startCraftedNet(t, kv("a", 0, "a0"))
	x := craftTx(t, f.cls[0], participants(f.net, 2), kv("a", 1, "a1"))
	x.prepare(t, ctx, f.cls[0])
	x.prepare(t, ctx, f.cls[2])
	x.commit(t, ctx, f.cls[0])

	away := startMITM(t, f.ps[2].Addr())
	away.failWith(codes.Unavailable, "BoundGet", "Status", "Commit", "Restore", "Fence", "Abort")
	r := newClient(t, f.net, f.key, func(cfg *quorum.Config) {
		plaintext(cfg)
		cfg.Providers[2].Addr = away.addr
	})
	res, err := r.Get(ctx, "")
	var unconfirmed *quorum.UnconfirmedError
	if !errors.As(err, &unconfirmed) || len(unconfirmed.Keys) != 1 || unconfirmed.Keys[0].Key != "a" {
		t.Fatalf("get = %v (entries %v), want an *UnconfirmedError for a", err, res)
	}

	// Why: the providers without the value read as a0.
	hide := startMITM(t, f.ps[0].Addr())
	hide.failWith(codes.Unavailable, "BoundGet")
	later := newClient(t, f.net, f.key, func(cfg *quorum.Config) {
		plaintext(cfg)
		cfg.Providers[0].Addr = hide.addr
	})
	wantEntries(t, get(t, later, ""), "a@0=a0")

	// With p2 back, the reader's settler commits it on p2 and restores it
	// on p1.
	away.heal()
	eventually(t, "the settler lands the put on every provider", func() bool {
		for _, p := range f.ps {
			if got := render(direct(t, p, f.key, "")); len(got) != 1 || got[0] != "a@1=a1" {
				return false
			}
		}
		return true
	})
	wantEntries(t, get(t, r, ""), "a@1=a1")
}
