package quorumcli

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/quorum/envelope"
)

// A value one provider holds without a commit proof (an aborted put's prepared
// entry it wrote into its own database) is not what lss-quorum get prints: it
// prints the certified value and lists the other as pending, in text and JSON,
// and exits 0; audit names it as a problem.
func TestGetListsPendingValues(t *testing.T) {
	t.Parallel()
	ctx, network, cfgPath, main := inProcess(t)
	main(ExitOK, "init")
	main(ExitOK, "put", "x", "0", "01")

	key, err := clientkey.Load(filepath.Join(filepath.Dir(cfgPath), "client-key"))
	if err != nil {
		t.Fatal(err)
	}
	secret := wire.CLIHMACSecret(key)
	cipher, err := envelope.New(secret[:], envelope.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := network.Providers()[2]
	cl, err := provider.Dial(ctx, provider.Options{Addr: p.Addr(), ServerID: p.ServerID(), ClientKey: key,
		Format: provider.FormatQuorum, Extension: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	txid := bytes.Repeat([]byte{0x3c}, quorum.TxIDSize)
	es := cl.SealTx(txid, []provider.KV{{Key: "x", Version: 1, Value: cipher.Encrypt("x", 1, []byte{0xee})}})
	if _, _, err := cl.Restore(ctx, es); err != nil { // txid, no proof
		t.Fatal(err)
	}

	out := main(ExitOK, "get")
	if !strings.Contains(out, `without a commit proof: "x": holds v1, others v0`) {
		t.Errorf("get does not say p2 holds x v1 without a commit proof:\n%s", out)
	}
	if strings.Contains(out, "rolled back") || strings.Contains(out, "missing") {
		t.Errorf("get calls the provider holding a pending value rolled back:\n%s", out)
	}
	if !strings.Contains(out, "01") || strings.Contains(out, "ee") {
		t.Errorf("get prints the unproven value or not the certified one:\n%s", out)
	}
	if !strings.Contains(out, "pending") || !strings.Contains(out, `"x"  v1`) || !strings.Contains(out, hex.EncodeToString(txid)) {
		t.Errorf("get does not list x v1 as pending:\n%s", out)
	}
	if out := main(ExitOK, "get", "--json"); !strings.Contains(out, `"pending": [`) || !strings.Contains(out, `"txid": "`+hex.EncodeToString(txid)) {
		t.Errorf("get --json does not list x v1 as pending:\n%s", out)
	}
	if out := main(ExitDisagree, "audit"); !strings.Contains(out, "PENDING") {
		t.Errorf("audit does not name the pending value:\n%s", out)
	}
}
