package quorumcli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/provider"
)

// baseGet reads the client's namespace on provider i with the base protocol's Get,
// as a Rust client (or anyone holding the token) would.
func baseGet(t *testing.T, cfg *qconfig.Config, i int) error {
	t.Helper()
	key, err := clientkey.Load(cfg.ClientKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := cfg.Providers[i]
	c, err := provider.Dial(ctx, provider.Options{Addr: p.Addr, Name: p.Name, ClientKey: key, ServerID: p.ServerIDBytes()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Get(ctx, "")
	return err
}

func TestInitSwitchesAnAllExtensionQuorumToExtensionOnly(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.json")
	startTestnet(t, home, cfgPath, "-n", "3")
	c := []string{"--config", cfgPath}
	expect(t, run(t, home, append(c, "init")...), 0, "namespaces are now extension-only")
	cfg, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// The quorum keeps working through the extension...
	expect(t, run(t, home, append(c, "put", "k", "0", "aa")...), 0, "put 1 key(s)")
	expect(t, run(t, home, append(c, "get", "k")...), 0, "aa")
	// ...and the base Get, the MAC oracle, is refused on every provider.
	for i := range cfg.Providers {
		if err := baseGet(t, cfg, i); err == nil || !strings.Contains(err.Error(), "extension-only") {
			t.Errorf("base Get on %s after init: %v; want a refusal naming extension-only", cfg.Providers[i].Name, err)
		}
	}
	// A second init is harmless.
	expect(t, run(t, home, append(c, "init")...), 0, "extension-only")
}

func TestInitLeavesAMixedQuorumOnTheBaseProtocol(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.json")
	startTestnet(t, home, cfgPath, "-n", "3", "--base-only", "2")
	c := []string{"--config", cfgPath}
	r := run(t, home, append(c, "init")...)
	expect(t, r, 0)
	if strings.Contains(r.stdout, "extension-only") {
		t.Errorf("init with a stock provider switched to extension-only:\n%s", r.stdout)
	}
	cfg, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// Stock providers need the base protocol: the extension providers are left on it too.
	if err := baseGet(t, cfg, 0); err != nil {
		t.Errorf("base Get on an extension provider of a mixed quorum: %v", err)
	}
}
