package quorum_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/quorum"
)

// A provider that acknowledges writes it never keeps: p2 answers Prepare
// "prepared" and Commit "committed", MACed with the secret it shares with the
// client, and stores nothing. With p1 down during the put, that one liar is
// enough for the put to be acknowledged by p0 and p2: one faulty provider's
// word counts once, which is all W + R > N allows it. Then p0 goes away while
// p1 comes back: two faults, more than a minority, and the read quorum {p1, p2}
// holds only the old version. The watermark (kept in a file, read by a new
// process) makes that read a *RollbackError naming both, never the old value;
// once p0 is back, repair brings the others level and the put is read.
func TestAdversaryFakeAcknowledgementsAreCaughtByTheWatermark(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	marks := withStore(filepath.Join(t.TempDir(), "watermark.json"), key)
	liar := startMITM(t, ps[2].Addr())
	throughLiar := func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.DisableEncryption = true
		cfg.Providers[2].Addr = liar.addr
		marks(cfg)
	}
	c := newClient(t, net, key, throughLiar)
	put(t, c, kv("k", 0, "v0"))
	settle(t, c)

	secret := sharedSecret(t, key, ps[2].ServerID())
	liar.answer(func(method string, req proto.Message) proto.Message {
		switch method {
		case "Prepare":
			txid := req.(*lsspb.PrepareRequest).GetTxid()
			return &lsspb.TxReply{State: lsspb.TxState_TX_PREPARED,
				Hmac: wire.TxReplyMAC(secret, wire.DomainPrepareReply, txid, lsspb.TxState_TX_PREPARED, nil)}
		case "Commit":
			txid := req.(*lsspb.TxRequest).GetTxid()
			return &lsspb.TxReply{State: lsspb.TxState_TX_COMMITTED,
				Hmac: wire.TxReplyMAC(secret, wire.CommitDomains[1], txid, lsspb.TxState_TX_COMMITTED, nil)}
		}
		return nil
	})
	stop(t, ps[1])
	res := put(t, c, kv("k", 1, "v1"))
	if slices.Sort(res.Acked); !slices.Equal(res.Acked, []string{"p0", "p2"}) {
		t.Fatalf("put acknowledged by %v, want p0 and the liar", res.Acked)
	}
	if es := direct(t, ps[2], key, "k"); len(es) != 1 || es[0].Version != 0 {
		t.Fatalf("p2 holds %v, want k@0 only: it kept nothing", render(es))
	}
	c.Close() // the settler gives up on p1, which is down

	stop(t, ps[0])
	restart(t, ps[1])
	c2 := newClient(t, net, key, throughLiar)
	got, err := c2.Get(ctx, "")
	var rb *quorum.RollbackError
	if !errors.As(err, &rb) || len(rb.Keys) != 1 || rb.Keys[0].Key != "k" || rb.Keys[0].Watermark != 1 || rb.Keys[0].Merged != 0 {
		t.Fatalf("get from p1 and the liar: %+v, %v; want a rollback error for k below its acknowledged version 1", got, err)
	}
	if slices.Sort(rb.Answered); !slices.Equal(rb.Answered, []string{"p1", "p2"}) {
		t.Errorf("rollback error names %v as answering, want p1 and p2", rb.Answered)
	}
	if got != nil {
		if v, ok := got.Value("k"); ok && v.Version < 1 {
			t.Errorf("the read returned k@%d", v.Version)
		}
	}

	restart(t, ps[0])
	liar.answer(nil)
	if _, err := c2.Repair(ctx, ""); err != nil {
		t.Fatalf("repair: %v", err)
	}
	wantEntries(t, get(t, c2, ""), "k@1=v1")
	for _, p := range ps {
		if got := render(direct(t, p, key, "k")); !slices.Equal(got, []string{"k@1=v1"}) {
			t.Errorf("%s holds %v after repair", p.Name(), got)
		}
	}
}
