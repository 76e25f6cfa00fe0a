package quorum_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// Certified values (docs/design.md, "Watermark and the read side"): in atomic
// mode a value is read, repaired and counted only with a valid commit proof
// bound to its txid, key, version and stored bytes.

// stampedTxID is a txid as a coordinator makes one (quorum.TxIDSize bytes,
// stamped with at), so recovery's youth rule applies to it as to a real one.
func stampedTxID(t *testing.T, at time.Time) []byte {
	t.Helper()
	txid := make([]byte, quorum.TxIDSize)
	binary.BigEndian.PutUint64(txid, uint64(at.UnixMilli()))
	if _, err := rand.Read(txid[8:]); err != nil {
		t.Fatal(err)
	}
	return txid
}

// participants is the quorum a coordinator over every provider of net records.
func participants(net *testnet.Network, w int) provider.Quorum {
	q := provider.Quorum{W: w}
	for _, p := range net.Providers() {
		q.Participants = append(q.Participants, p.ServerID())
	}
	slices.SortFunc(q.Participants, bytes.Compare)
	return q
}

// holdsValue says whether any entry of es has a value containing s.
func holdsValue(es []provider.Entry, s string) bool {
	return slices.ContainsFunc(es, func(e provider.Entry) bool { return bytes.Contains(e.Value, []byte(s)) })
}

// Issue 9, observation 1, the provider that serves a prepared-only value: an
// atomic put is aborted (recovery decides it, the honest providers never
// prepared it), and the one provider that prepared it keeps the sealed entries
// and writes them into its own database, at a version above what the honest
// providers hold. Get returns the certified value below it and reports the
// other as pending; Repair and Audit never copy it onto the honest providers;
// Audit names it pending. Before certified reads, Get returned the aborted value
// as the newest and Repair copied it everywhere.
func TestObservation1PreparedOnlyValueIsNeverRead(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	liar := startMITM(t, ps[2].Addr())
	kept := liar.keepPrepares()
	c := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[2].Addr = liar.addr
		cfg.DisableEncryption = true // the test reads p2's database back
	})
	put(t, c, kv("k", 0, "v0"), kv("j", 0, "j0"))
	settle(t, c)

	// Only p2 can prepare the next put: it is undecided, and recovery aborts
	// it once p0 and p1 are fenced.
	ps[0].Cut()
	ps[1].Cut()
	if _, err := c.Put(ctx, []provider.KV{kv("k", 1, "aborted"), kv("j", 1, "aborted too")}); !errors.Is(err, quorum.ErrIndeterminate) {
		t.Fatalf("put with p0 and p1 cut: %v, want indeterminate", err)
	}
	ps[0].Heal()
	ps[1].Heal()
	rep, err := c.Recover(ctx)
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if len(rep.Transactions) != 1 || rep.Transactions[0].Decision != quorum.DecidedAbort || !rep.Transactions[0].Settled {
		t.Fatalf("recovery: %+v, want the put decided aborted and settled", rep.Transactions)
	}
	req := kept.latest()
	if req == nil || len(req.GetKvs()) != 2 {
		t.Fatalf("p2 kept %v, want the two sealed entries of the aborted prepare", req)
	}

	// p2 writes what it kept into its own database, with its own client (the
	// txid is bound by the value MAC; there is no proof to give).
	cl := dialQuorum(t, ps[2], key)
	defer cl.Close()
	var es []provider.Entry
	for _, e := range req.GetKvs() {
		es = append(es, provider.Entry{Key: e.GetKey(), Version: e.GetVersion(), Stored: e.GetValue(), TxID: req.GetTxid()})
	}
	if applied, _, err := cl.Restore(ctx, es); err != nil || len(applied) != 2 {
		t.Fatalf("restore of the kept entries on p2: %v, %v", applied, err)
	}
	if got := direct(t, ps[2], key, ""); !holdsValue(got, "aborted") || slices.ContainsFunc(got, func(e provider.Entry) bool { return e.Certified }) {
		t.Fatalf("p2 holds %v, want the aborted values, uncertified", render(got))
	}

	res := get(t, c, "")
	wantEntries(t, res, "j@0=j0", "k@0=v0")
	if s := state(t, res, "p2"); s.Status != quorum.Behind || len(s.Unproven) != 2 || len(s.Missing)+len(s.Behind)+len(s.RolledBack) != 0 {
		t.Errorf("p2: %+v, want behind with j and k v1 unproven (not missing, not rolled back)", s)
	}
	if len(res.Pending) != 2 {
		t.Fatalf("pending = %+v, want j v1 and k v1", res.Pending)
	}
	for _, p := range res.Pending {
		if p.Version != 1 || !bytes.Equal(p.TxID, req.GetTxid()) || !slices.Equal(p.Providers, []string{"p2"}) {
			t.Errorf("pending %+v, want v1 of the aborted txid, held by p2", p)
		}
	}

	report, err := c.Repair(ctx, "")
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	if len(report.Pending) != 2 {
		t.Errorf("repair reports pending %+v, want j and k", report.Pending)
	}
	audit, err := c.Audit(ctx, "", quorum.AuditOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit.Pending) != 2 || !slices.ContainsFunc(audit.Problems, func(p string) bool { return strings.HasPrefix(p, "PENDING") }) {
		t.Errorf("audit: pending %+v, problems %q; want both values named pending", audit.Pending, audit.Problems)
	}
	settle(t, c)
	for _, p := range ps[:2] {
		if got := direct(t, p, key, ""); holdsValue(got, "aborted") {
			t.Errorf("%s holds %v: the aborted put was copied onto an honest provider", p.Name(), render(got))
		}
	}

	// The keys are not stuck: the next put of version 1 is committed (p2
	// refuses it by the version rule), and it is what reads return.
	put(t, c, kv("k", 1, "next"), kv("j", 1, "next"))
	settle(t, c)
	wantEntries(t, get(t, c, ""), "j@1=next", "k@1=next")
}

// Issue 9, observation 1, replayed signed data: a provider serves the sealed
// entry of an aborted prepare (a@2) with a genuine commit proof made for
// something else: another version of the key, another key, the same key and
// version written by another transaction; or it claims that other transaction's
// txid too. The proof binds txid, key, version and the stored bytes, and the
// value MAC binds the txid, so the read refuses the provider's whole reply and
// names it faulty; Get returns the honest value and Repair copies nothing from
// it.
func TestObservation1ReplayedProofIsRefused(t *testing.T) {
	t.Parallel()
	// a1 and b0 are certified entries read from an honest provider, aborted
	// the sealed a@2 of an aborted prepare, a2 the certified a@2 of a later
	// put that p2 missed (when committed is set).
	type material struct {
		a1, b0, aborted, a2 provider.Entry
		// own is the commit proof key p2 would derive from the one secret it
		// shares with the client.
		own []byte
	}
	for _, tc := range []struct {
		name      string
		committed bool
		forge     func(m material) provider.Entry
	}{
		{"proof of another version", false, func(m material) provider.Entry {
			m.aborted.Proof = m.a1.Proof
			return m.aborted
		}},
		{"proof of another key", false, func(m material) provider.Entry {
			m.aborted.Proof = m.b0.Proof
			return m.aborted
		}},
		{"proof of another transaction", true, func(m material) provider.Entry {
			m.aborted.Proof = m.a2.Proof
			return m.aborted
		}},
		{"txid and proof of another transaction", true, func(m material) provider.Entry {
			m.aborted.TxID, m.aborted.Proof = m.a2.TxID, m.a2.Proof
			return m.aborted
		}},
		{"a proof made with the provider's own key", false, func(m material) provider.Entry {
			e := m.aborted
			e.Proof = wire.CommitProof(m.own, e.TxID, e.Key, e.Version, e.Stored)
			return e
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			net := startNet(t, 3)
			ps := net.Providers()
			key := newKey(t)
			c, cut := atomicThrough(t, net, key, 2, func(cfg *quorum.Config) { cfg.SettleDeadline = time.Hour })
			put(t, c, kv("a", 0, "a0"), kv("b", 0, "b0"))
			put(t, c, kv("a", 1, "a1"))
			settle(t, c)
			honest := direct(t, ps[0], key, "")
			if len(honest) != 2 || !honest[0].Certified || !honest[1].Certified {
				t.Fatalf("p0 holds %v, want a@1 and b@0 certified", render(honest))
			}
			cl := dialQuorum(t, ps[2], key)
			defer cl.Close()
			m := material{a1: honest[0], b0: honest[1],
				// Exactly what a provider is sent in a Prepare of a@2.
				aborted: cl.SealTx(stampedTxID(t, time.Now()), []provider.KV{kv("a", 2, "aborted")})[0],
				own:     wire.DeriveKey(sharedSecret(t, key, ps[2].ServerID()), wire.LabelCommitProof)}
			want := "a@1=a1"
			if tc.committed {
				// The signer writes a@2 for real while p2 is cut off; the
				// honest providers hold it certified.
				cut.failWith(codes.Unavailable, "Prepare", "Commit", "Restore", "Fence", "Abort")
				put(t, c, kv("a", 2, "a2"))
				m.a2 = direct(t, ps[0], key, "a")[0]
				want = "a@2=a2"
			}
			// p2 writes the forgery into its own database.
			if _, _, err := cl.Restore(ctx, []provider.Entry{tc.forge(m)}); err != nil {
				t.Fatalf("p2 stores the forgery: %v", err)
			}
			cut.heal()

			res, err := c.Get(ctx, "")
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			wantEntries(t, res, want, "b@0=b0")
			if s := state(t, res, "p2"); s.Status != quorum.Faulty || !errors.Is(s.Err, provider.ErrValueHMAC) {
				t.Errorf("p2 is %v (%v), want faulty: what it serves is not what its proof is for", s.Status, s.Err)
			}
			report, err := c.Repair(ctx, "")
			if err != nil {
				t.Fatalf("repair: %v", err)
			}
			if p := report.Providers[2]; p.Err == nil || p.Before != quorum.Faulty {
				t.Errorf("repair of p2: %+v, want it skipped as faulty", p)
			}
			for _, p := range ps[:2] {
				if got := direct(t, p, key, ""); holdsValue(got, "aborted") {
					t.Errorf("%s holds %v: the forgery was copied", p.Name(), render(got))
				}
			}
		})
	}
}

// A value held without a commit proof is settled, not returned: here it belongs
// to a transaction its coordinator left prepared on W providers (decided
// committed, never acknowledged), and one provider holds its value in its data
// without a proof. Get returns the certified value below it and reports the
// other pending; the read hands the transaction to recovery in the background,
// which commits it with proofs, and a later read returns it, certified.
func TestPendingValueIsSettledNotReturned(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.DisableEncryption = true
	})
	put(t, c, kv("k", 0, "v0"))
	settle(t, c)

	// An hour old: no coordinator is still deciding it.
	txid := stampedTxID(t, time.Now().Add(-time.Hour))
	q := participants(net, 2)
	var es []provider.Entry
	for _, p := range ps[:2] {
		cl := dialQuorum(t, p, key)
		es = cl.SealTx(txid, []provider.KV{kv("k", 1, "left prepared")})
		if _, err := cl.Prepare(ctx, txid, q, cl.PrepareSeal(txid, q, es), es); err != nil {
			t.Fatalf("prepare on %s: %v", p.Name(), err)
		}
		cl.Close()
	}
	cl := dialQuorum(t, ps[2], key)
	defer cl.Close()
	if _, _, err := cl.Restore(ctx, es); err != nil { // txid, no proof
		t.Fatal(err)
	}

	res := get(t, c, "")
	wantEntries(t, res, "k@0=v0")
	if len(res.Pending) != 1 || !bytes.Equal(res.Pending[0].TxID, txid) || res.Pending[0].Version != 1 {
		t.Fatalf("pending = %+v, want k v1 of the prepared transaction", res.Pending)
	}
	eventually(t, "the pending transaction is recovered and its value read, certified", func() bool {
		res, err := c.Get(ctx, "")
		if err != nil {
			return false
		}
		v, ok := res.Value("k")
		return ok && v.Version == 1 && v.Certified && len(res.Pending) == 0
	})
	for _, p := range ps[:2] {
		if n := preparedOn(t, p, key); n != 0 {
			t.Errorf("%s still holds %d transactions prepared", p.Name(), n)
		}
	}
}

// Values written by plain puts before the quorum switched to atomic stay
// readable in atomic mode, under the plain read rules: a plain value fewer
// than W providers hold (a failed plain put's leftover) is written back to W
// before it is returned. Atomic puts then write over them as usual.
func TestPlainValuesStayReadableInAtomicMode(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	noEnc := func(cfg *quorum.Config) { cfg.DisableEncryption = true } // the leftover is written directly
	plain := newClient(t, net, key, noEnc)                             // plain mode
	put(t, plain, kv("a", 0, "x"), kv("b", 0, "y"))
	settle(t, plain)
	// A failed plain put's leftover, on p0 only.
	cl := dialQuorum(t, ps[0], key)
	if err := cl.Put(testCtx(t), []provider.KV{kv("b", 1, "leftover")}); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	plain.Close()

	c := newClient(t, net, key, noEnc, func(cfg *quorum.Config) { cfg.Mode = quorum.ModeAtomic })
	res := get(t, c, "")
	if got := render(res.Entries); len(got) != 2 || got[0] != "a@0=x" || got[1] != "b@1=leftover" || len(res.Pending) != 0 {
		t.Fatalf("atomic read of plain values: %v, pending %+v", got, res.Pending)
	}
	for _, p := range ps {
		if got := direct(t, p, key, "b"); len(got) != 1 || got[0].Version != 1 {
			t.Errorf("%s holds %v, want b@1 written back before it was returned", p.Name(), render(got))
		}
	}
	put(t, c, kv("a", 1, "x1"))
	settle(t, c)
	res = get(t, c, "")
	if a, _ := res.Value("a"); a.Version != 1 || !a.Certified {
		t.Errorf("a after an atomic put: %+v, want v1 certified", a)
	}
}

// Reput in atomic mode: after every provider rolled back, the acknowledged
// value written back by Reput is certified (a transaction of its own, with
// commit proofs), so atomic reads return it; a plain put's value there would be
// read under the plain rules only.
func TestReputInAtomicModeWritesCertifiedValues(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key, withStore(filepath.Join(t.TempDir(), "wm.json"), key),
		func(cfg *quorum.Config) { cfg.Mode = quorum.ModeAtomic })
	put(t, c, kv("k", 0, "old"))
	settle(t, c)
	snaps := snapshotAll(t, ps)
	put(t, c, kv("k", 1, "acked"))
	settle(t, c)
	for i, p := range ps {
		if err := p.Rollback(ctx, snaps[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Get(ctx, ""); !errors.Is(err, quorum.ErrRollback) {
		t.Fatalf("get after the rollback of every provider: %v, want a rollback", err)
	}
	if rep, err := c.Reput(ctx, []provider.KV{kv("k", 1, "acked")}); err != nil {
		t.Fatalf("reput: %v (%+v)", err, rep)
	}
	res := get(t, c, "")
	wantEntries(t, res, "k@1=acked")
	for _, p := range ps {
		if es := direct(t, p, key, "k"); len(es) != 1 || es[0].Version != 1 || !es[0].Certified || len(es[0].TxID) != quorum.TxIDSize {
			t.Errorf("%s holds %v (certified %v), want k@1 with a txid and a commit proof", p.Name(), render(es), len(es) == 1 && es[0].Certified)
		}
	}
}
