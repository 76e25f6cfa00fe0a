package quorumcli

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// leftPrepared prepares a transaction born at born on one provider only, as a
// coordinator that stopped mid-put leaves it, and returns its txid.
func leftPrepared(ctx context.Context, t *testing.T, cl *provider.Client, born time.Time, key string) []byte {
	t.Helper()
	txid := make([]byte, quorum.TxIDSize)
	binary.BigEndian.PutUint64(txid, uint64(born.UnixMilli()))
	rand.Read(txid[8:])
	if _, err := cl.Prepare(ctx, txid, provider.Quorum{}, nil, cl.Seal([]provider.KV{{Key: key, Version: 0, Value: []byte{1}}})); err != nil {
		t.Fatal(err)
	}
	return txid
}

// The commands that write or read the client's state open it as a signer does
// (quorum.Open): they first settle what an earlier process left prepared, but
// leave alone a transaction young enough that its coordinator may still be
// deciding it. audit without --repair only looks.
func TestSignerCommandsSettleWhatAnEarlierRunLeft(t *testing.T) {
	t.Parallel()
	ctx, network, cfgPath, main := inProcess(t)
	main(ExitOK, "init")
	key, err := clientkey.Load(filepath.Join(filepath.Dir(cfgPath), "client-key"))
	if err != nil {
		t.Fatal(err)
	}
	p := network.Providers()[0]
	cl, err := provider.Dial(ctx, provider.Options{Addr: p.Addr(), ServerID: p.ServerID(), ClientKey: key, Extension: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	old := time.Now().Add(-time.Hour)
	for _, step := range []struct {
		args    []string
		code    int
		settles bool
	}{
		{[]string{"put", "a", "0", "01"}, ExitOK, true},
		{[]string{"get"}, ExitOK, true},
		{[]string{"get", "--json"}, ExitOK, true},
		{[]string{"audit", "--repair"}, ExitOK, true},
		{[]string{"audit"}, ExitDisagree, false},
		{[]string{"recover", "--dry-run"}, ExitDisagree, false},
	} {
		txid := leftPrepared(ctx, t, cl, old, "z")
		out := main(step.code, step.args...)
		// leftPrepared prepares without a seal: recover names the record as one
		// that decides nothing.
		if step.args[0] == "recover" && !strings.Contains(out, "count for nothing: p0") {
			t.Errorf("%q does not say p0's unsealed record counts for nothing:\n%s", step.args, out)
		}
		want := provider.TxPrepared
		if step.settles {
			want = provider.TxAborted
		}
		if s := txState(ctx, t, cl, txid); s != want {
			t.Errorf("%q left an earlier run's transaction %v, want %v", step.args, s, want)
		}
		if !step.settles {
			main(ExitOK, "recover")
		}
	}

	young := leftPrepared(ctx, t, cl, time.Now(), "young")
	for _, args := range [][]string{{"put", "b", "0", "02"}, {"get"}, {"audit", "--repair"}} {
		out := main(map[bool]int{true: ExitDisagree, false: ExitOK}[args[0] == "audit"], args...)
		if s := txState(ctx, t, cl, young); s != provider.TxPrepared {
			t.Fatalf("%q settled a young transaction (now %v): it would race a live coordinator", args, s)
		}
		// Leaving it is right, so it is not reported as a failure to settle.
		if strings.Contains(out, "not settled when the client closed") {
			t.Errorf("%q reported a young transaction it rightly left alone as not settled:\n%s", args, out)
		}
	}
}
