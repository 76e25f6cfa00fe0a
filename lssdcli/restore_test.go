package lssdcli

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// The README's restore procedure on one provider of a quorum: an online backup,
// more writes, then the provider restored from the backup. The restored provider
// serves older data than it confirmed: audit names it (rolled back, behind) and
// repair catches it up from the others.
func TestRestoredProviderIsNamedByAuditAndCaughtUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	net, err := testnet.Start(ctx, testnet.Config{N: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	var pcs []quorum.ProviderConfig
	for _, p := range net.Providers() {
		pcs = append(pcs, quorum.ProviderConfig{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID()})
	}
	key, _ := secp256k1.GeneratePrivateKey()
	c, err := quorum.New(ctx, quorum.Config{Providers: pcs, ClientKey: key, Timeout: 5 * time.Second, Grace: 5 * time.Second,
		Mode: quorum.ModePlain, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	put := func(kvs ...provider.KV) {
		t.Helper()
		if _, err := c.Put(ctx, kvs); err != nil {
			t.Fatal(err)
		}
		if err := c.Settle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	put(provider.KV{Key: "chan/1", Version: 0, Value: []byte("open")})

	p0 := net.Providers()[0]
	backup := filepath.Join(t.TempDir(), "p0.db")
	if code, stdout, stderr := runBackup(t, p0.DataDir(), backup); code != ExitOK || !strings.Contains(stdout, "from the running server") {
		t.Fatalf("backup: %d\n%s%s", code, stdout, stderr)
	}
	put(provider.KV{Key: "chan/1", Version: 1, Value: []byte("update")})

	// Restore: stop, put the backup in place of the database, start.
	if err := p0.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p0.DataDir(), lssd.BoltFileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	// As the README says: the commit journal belongs to the file it was written beside.
	if err := os.Remove(filepath.Join(p0.DataDir(), lssd.BoltFileName+".commits")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := p0.Restart(ctx); err != nil {
		t.Fatal(err)
	}

	rep, err := c.Audit(ctx, "chan/", quorum.AuditOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Providers[0]
	if a.Status != quorum.RolledBack || len(a.Behind) != 1 || a.Behind[0].Key != "chan/1" || a.Behind[0].Version != 0 {
		t.Errorf("restored p0 = %+v; want rolled back, behind on chan/1 at v0\n%s", a, rep.Table())
	}
	if rep.After == nil || rep.After.Providers[0].Status != quorum.UpToDate || rep.After.Verdict != quorum.Agree {
		t.Errorf("after repair: %+v\n%s", rep.After, rep.Table())
	}
}
