package testnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd"
)

// TestPebbleDatabase runs a provider on Pebble: its data lives in the pebble
// directory, survives a crash, and Tamper edits it there.
func TestPebbleDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := startNet(t, Config{N: 1, Dir: dir, Database: "pebble"})
	p := n.Providers()[0]
	c := newTestClient(t, p)
	c.mustPut(kv("k", 0, "v0"))
	if _, err := os.Stat(filepath.Join(dir, p.Name(), lssd.PebbleDirName)); err != nil {
		t.Fatalf("no pebble directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, p.Name(), lssd.BoltFileName)); err == nil {
		t.Fatal("a pebble provider created a bolt file")
	}
	if err := p.Crash(); err != nil {
		t.Fatal(err)
	}
	if err := p.Restart(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "after crash and restart", c.getEventually(""), kv("k", 0, "v0"))
	if err := p.Tamper(ctxT(t, 10*time.Second), c.id, "k", func(v []byte) []byte { return append(v, '!') }); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "after tamper", c.getEventually(""), kv("k", 0, "v0!"))
}

func TestUnknownDatabase(t *testing.T) {
	t.Parallel()
	n, err := Start(ctxT(t, 5*time.Second), Config{N: 1, Database: "mongo"})
	if err == nil {
		n.Close()
		t.Fatal("Start accepted database mongo")
	}
	if !strings.Contains(err.Error(), `"mongo"`) {
		t.Fatalf("Start with database mongo: %v, want it named", err)
	}
}
