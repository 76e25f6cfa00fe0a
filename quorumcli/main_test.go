package quorumcli

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/quorum/envelope"
)

// TestMainInProcess runs the commands through Main in this process, so that the
// race detector sees the command code itself, against an in-process testnet.
func TestMainInProcess(t *testing.T) {
	t.Parallel()
	// --verbose: on failure, the quorum client's log says what it did.
	ctx, network, cfgPath, main := inProcess(t, "--verbose")
	main(ExitOK, "init")
	main(ExitOK, "put", "x", "0", "01", "y", "0", "02")
	main(ExitOK, "put", "x", "1", "03")
	if out := main(ExitOK, "get"); !strings.Contains(out, "03") || !strings.Contains(out, "up to date") {
		t.Errorf("get:\n%s", out)
	}
	main(ExitOK, "audit")
	main(ExitOK, "recover")

	// A provider down: reads and writes still succeed, the audit disagrees.
	p := network.Providers()[2]
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	main(ExitOK, "put", "x", "2", "04")
	if out := main(ExitOK, "get", "x"); !strings.Contains(out, "unreachable") {
		t.Errorf("get with p2 stopped:\n%s", out)
	}
	main(ExitDisagree, "audit")
	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	main(ExitOK, "audit", "--repair")
	main(ExitOK, "audit")

	main(ExitUsage, "put", "x", "3")

	// An atomic put whose coordinator stopped after two providers prepared it:
	// audit names it as pending and decided, recover commits it everywhere.
	key, err := clientkey.Load(filepath.Join(filepath.Dir(cfgPath), "client-key"))
	if err != nil {
		t.Fatal(err)
	}
	txid := bytes.Repeat([]byte{0x5a}, quorum.TxIDSize)
	// Encrypted as the quorum client encrypts every value.
	secret := wire.CLIHMACSecret(key)
	cipher, err := envelope.New(secret[:], envelope.Options{})
	if err != nil {
		t.Fatal(err)
	}
	z := cipher.Encrypt("z", 0, []byte{0x7f})
	q := provider.Quorum{W: 2}
	for _, p := range network.Providers() {
		q.Participants = append(q.Participants, p.ServerID())
	}
	slices.SortFunc(q.Participants, bytes.Compare)
	for _, p := range network.Providers()[:2] {
		cl, err := provider.Dial(ctx, provider.Options{Addr: p.Addr(), ServerID: p.ServerID(), ClientKey: key,
			Format: provider.FormatQuorum, Extension: true})
		if err != nil {
			t.Fatal(err)
		}
		es := cl.SealTx(txid, []provider.KV{{Key: "z", Version: 0, Value: z}})
		if _, err := cl.Prepare(ctx, txid, q, cl.PrepareSeal(txid, q, es), es); err != nil {
			t.Fatal(err)
		}
		cl.Close()
	}
	if out := main(ExitDisagree, "audit"); !strings.Contains(out, "pending") || !strings.Contains(out, "decided COMMITTED") {
		t.Errorf("audit with a pending transaction:\n%s", out)
	}
	main(ExitDisagree, "recover", "--dry-run")
	if out := main(ExitOK, "recover"); !strings.Contains(out, "5a5a5a5a") {
		t.Errorf("recover does not name the transaction:\n%s", out)
	}
	if out := main(ExitOK, "get", "z"); !strings.Contains(out, "7f") {
		t.Errorf("the recovered put is not visible:\n%s", out)
	}
	main(ExitOK, "audit")
}
