package quorumcli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// recover beside a live signer leaves alone a transaction younger than a
// coordinator's deadline (the signer may still be deciding it) and names it;
// --young settles it.
func TestRecoverLeavesYoungTransactionsAlone(t *testing.T) {
	t.Parallel()
	ctx, network, cfgPath, main := inProcess(t)
	main(ExitOK, "init")
	key, err := clientkey.Load(filepath.Join(filepath.Dir(cfgPath), "client-key"))
	if err != nil {
		t.Fatal(err)
	}
	// A coordinator elsewhere has just prepared on one provider.
	txid := make([]byte, quorum.TxIDSize)
	binary.BigEndian.PutUint64(txid, uint64(time.Now().UnixMilli()))
	rand.Read(txid[8:])
	// It prepares as a coordinator does: in the quorum format, with the
	// recorded quorum (2 of the three providers) and the prepare seal.
	q := provider.Quorum{W: 2}
	for _, p := range network.Providers() {
		q.Participants = append(q.Participants, p.ServerID())
	}
	slices.SortFunc(q.Participants, bytes.Compare)
	p := network.Providers()[0]
	cl, err := provider.Dial(ctx, provider.Options{Addr: p.Addr(), ServerID: p.ServerID(), ClientKey: key,
		Format: provider.FormatQuorum, Extension: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	es := cl.SealTx(txid, []provider.KV{{Key: "z", Version: 0, Value: []byte{1}}})
	if _, err := cl.Prepare(ctx, txid, q, cl.PrepareSeal(txid, q, es), es); err != nil {
		t.Fatal(err)
	}
	short := hex.EncodeToString(txid)[:16]
	if out := main(ExitOK, "recover"); !strings.Contains(out, short) || !strings.Contains(out, "young: left to its coordinator") {
		t.Errorf("recover beside a live coordinator:\n%s", out)
	}
	if s := txState(ctx, t, cl, txid); s != provider.TxPrepared {
		t.Errorf("after recover the young transaction is %v on p0, want left prepared", s)
	}
	if out := main(ExitOK, "recover", "--young"); !strings.Contains(out, short) || !strings.Contains(out, "decision: abort, settled") {
		t.Errorf("recover --young:\n%s", out)
	}
	if s := txState(ctx, t, cl, txid); s != provider.TxAborted {
		t.Errorf("after recover --young the transaction is %v on p0, want aborted", s)
	}
}

func txState(ctx context.Context, t *testing.T, cl *provider.Client, txid []byte) provider.TxState {
	t.Helper()
	txs, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range txs {
		if bytes.Equal(tx.TxID, txid) {
			return tx.State
		}
	}
	return provider.TxUnknown
}
