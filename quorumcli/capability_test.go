package quorumcli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lssquorum/lss/internal/qconfig"
)

// init pins every provider's capability (observation: a capability learned from
// an unauthenticated status code let a man in the middle downgrade the client),
// and refuses a provider pinned as speaking the extension that now answers like
// a stock server.
func TestInitPinsCapabilities(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.json")
	startTestnet(t, home, cfgPath, "-n", "3", "--base-only", "2")
	cfg, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// As if written by hand: nothing pinned about capabilities yet.
	for i := range cfg.Providers {
		cfg.Providers[i].Capability = ""
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	r := run(t, home, "--config", cfgPath, "init")
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^\s+p0\s.*already pinned\s+extension\s`)
	lineMatch(t, r.stdout, `^\s+p2\s.*already pinned\s+stock\s`)
	if cfg, err = qconfig.Load(cfgPath); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"extension", "extension", "stock"} {
		if got := cfg.Providers[i].Capability; got != want {
			t.Errorf("p%d pinned as %q, want %q", i, got, want)
		}
	}

	// p2 pinned as an extension provider, yet it answers like a stock server.
	cfg.Providers[2].Capability = qconfig.CapabilityExtension
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfgPath)
	r = run(t, home, "--config", cfgPath, "init")
	expect(t, r, 1, `provider "p2" answers as stock but is pinned as extension`, "init --force", "not changed")
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(before, after) {
		t.Error("a refused init changed the configuration")
	}
	// The quorum does not fall back either: reads name p2 faulty.
	expect(t, run(t, home, "--config", cfgPath, "put", "k", "0", "01"), 0)
	r = run(t, home, "--config", cfgPath, "get")
	lineMatch(t, r.stdout, `^\s+p2\s+faulty\s`)

	expect(t, run(t, home, "--config", cfgPath, "init", "--force"), 0)
	if cfg, err = qconfig.Load(cfgPath); err != nil || !cfg.Providers[2].Stock() {
		t.Fatalf("after init --force: %+v, %v", cfg, err)
	}
}
