package quorum_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// Issue 9, observation 2: a provider that answers Status with a record of its
// own making (a recorded quorum of W=1 over entries it kept from an aborted
// put, whose value MACs verify), or replays a sealed record, must not make
// Recover commit the transaction, nor restore its entries onto the honest
// providers: a record counts only if the client's prepare seal verifies over
// its quorum and entries, and the quorum and entries are taken only from such
// records. Audit counts by the same rule.
func TestObservation2RecoverDoesNotTrustOneProvidersRecord(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	key := newKey(t)
	ps := net.Providers()
	liar := startMITM(t, ps[2].Addr())
	kept := liar.keepPrepares()
	withLiar := func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[2].Addr = liar.addr
	}
	c := newClient(t, net, key, withLiar)

	put(t, c, kv("old", 0, "committed earlier"))
	settle(t, c)
	if n := kept.transactions(); n != 1 {
		t.Fatalf("the liar kept %d prepares, want the first put's", n)
	}
	old := kept.latest()

	// p0 and p1 refuse the next put by the version rule: a definite abort.
	putDirectly(ctx, t, ps[:2], key, kv("k", 0, "someone else"))
	if _, err := c.Put(ctx, []provider.KV{kv("k", 0, "secret"), kv("fresh", 0, "secret")}); !errors.Is(err, quorum.ErrTxAborted) {
		t.Fatalf("put: %v, want a definite abort", err)
	}
	settle(t, c)
	aborted := kept.latest()
	if aborted == nil || string(aborted.GetTxid()) == string(old.GetTxid()) || len(aborted.GetKvs()) != 2 {
		t.Fatalf("the liar kept %v", aborted)
	}
	txid := aborted.GetTxid()

	secret := sharedSecret(t, key, ps[2].ServerID())
	// lie makes p2 answer Status with rec in place of its record of txid.
	lie := func(rec *lsspb.Transaction) {
		liar.rewrite(func(method string, req, rep proto.Message) proto.Message {
			if method != "Status" {
				return rep
			}
			r := proto.Clone(rep).(*lsspb.StatusReply)
			txs := slices.DeleteFunc(r.GetTransactions(), func(tx *lsspb.Transaction) bool { return bytes.Equal(tx.GetTxid(), txid) })
			txs = append(txs, rec)
			slices.SortFunc(txs, func(a, b *lsspb.Transaction) int { return bytes.Compare(a.GetTxid(), b.GetTxid()) })
			r.Transactions = txs
			r.Hmac = wire.StatusReplyMAC(secret, req.(*lsspb.StatusRequest).GetNonce(), txs)
			return r
		})
	}
	prepared := func(from *lsspb.PrepareRequest, participants [][]byte, w int32) *lsspb.Transaction {
		return &lsspb.Transaction{Txid: txid, State: lsspb.TxState_TX_PREPARED, Kvs: from.GetKvs(),
			Participants: participants, WriteQuorum: w, Seal: from.GetSeal()}
	}
	cases := []struct {
		name string
		rec  *lsspb.Transaction
		// unverified: the record's seal does not verify, so audit names p2.
		unverified bool
	}{
		{"its own record with W=1 over the entries it kept", prepared(aborted, [][]byte{ps[2].ServerID()}, 1), true},
		{"its own record with W=1 and a made-up seal", func() *lsspb.Transaction {
			r := prepared(aborted, [][]byte{ps[2].ServerID()}, 1)
			r.Seal = bytes.Repeat([]byte{7}, 32)
			return r
		}(), true},
		{"another transaction's sealed record under this txid", prepared(old, old.GetParticipants(), old.GetWriteQuorum()), true},
		{"a replay of the prepare it was sent, validly sealed", prepared(aborted, aborted.GetParticipants(), aborted.GetWriteQuorum()), false},
	}
	for _, tc := range cases {
		lie(tc.rec)
		rc := newClient(t, net, key, withLiar)
		read, err := rc.Transactions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		txs := read.Pending
		i := slices.IndexFunc(txs, func(s quorum.TxStatus) bool { return bytes.Equal(s.TxID, txid) })
		if i < 0 {
			t.Fatalf("%s: the transaction is not pending: %+v", tc.name, txs)
		}
		if st := txs[i]; st.Decision == quorum.DecidedCommit || slices.Contains(st.Unverified, "p2") != tc.unverified {
			t.Errorf("%s: decision %v, unverified %v (want p2 named: %v)", tc.name, st.Decision, st.Unverified, tc.unverified)
		}

		audit, err := rc.Audit(ctx, "", quorum.AuditOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range audit.Transactions {
			if bytes.Equal(st.TxID, txid) && st.Decision == quorum.DecidedCommit {
				t.Errorf("%s: audit decides it committed", tc.name)
			}
		}
		if table := audit.Table(); tc.unverified && !strings.Contains(table, "the records of p2 count for nothing") {
			t.Errorf("%s: audit does not say p2's record counts for nothing:\n%s", tc.name, table)
		}

		report, err := rc.Recover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range report.Transactions {
			if !bytes.Equal(rec.TxID, txid) {
				continue
			}
			if rec.Decision == quorum.DecidedCommit {
				t.Errorf("%s: recover decided commit: %v", tc.name, rec.Actions)
			}
			for _, a := range rec.Actions {
				if strings.Contains(a, "restored") || strings.Contains(a, "committed") {
					t.Errorf("%s: recover did %q", tc.name, a)
				}
			}
		}
		for _, p := range ps[:2] {
			if got := render(direct(t, p, key, "")); slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "secret") }) {
				t.Errorf("%s: %s holds %v, the aborted put's entries", tc.name, p.Name(), got)
			}
		}
	}
	// Through it all, the honest providers kept what was acknowledged.
	liar.rewrite(nil)
	for _, p := range ps[:2] {
		if got := render(direct(t, p, key, "")); !slices.Equal(got, []string{"k@0=someone else", "old@0=committed earlier"}) {
			t.Errorf("%s holds %v", p.Name(), got)
		}
	}
}

// sharedSecret is the secret a client with key shares with the server whose
// server_id is id: what a lying server MACs its replies with.
func sharedSecret(t *testing.T, key *secp256k1.PrivateKey, id []byte) []byte {
	t.Helper()
	pub, err := secp256k1.ParsePubKey(id)
	if err != nil {
		t.Fatal(err)
	}
	s := wire.SharedSecret(key, pub)
	return s[:]
}
