package lssd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
)

// boltOptions are options for a daemon on the embedded database in dir.
func boltOptions(t *testing.T, dir string) Options {
	opts := testOptions(t)
	opts.Database = "bolt"
	opts.DataDir = dir
	return opts
}

// reconnect points c at a restarted daemon, keeping its key and secrets.
func reconnect(t *testing.T, c *client, d *Daemon) *client {
	cc := *c
	cc.rpc = dial(t, d.Addr())
	return &cc
}

func TestRestartKeepsDataAndServerID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d1, err := Start(context.Background(), boltOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, dial(t, d1.Addr()), d1.ServerID())
	c.mustPut(kv("a", 0, "a0"), kv("b", 0, "b0"))
	c.mustPut(kv("a", 1, "a1"))
	pending, fenced := txid(t), txid(t)
	if _, err := c.prepare(pending, kv("b", 1, "b1"), kv("c", 0, "c0")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.tx(fenceCall, fenced); err != nil {
		t.Fatal(err)
	}
	if err := d1.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	d2 := startDaemon(t, boltOptions(t, dir))
	if !bytes.Equal(d2.ServerID(), d1.ServerID()) {
		t.Fatalf("server_id changed across restart: %x then %x", d1.ServerID(), d2.ServerID())
	}
	c = reconnect(t, c, d2)
	// The old shared secret still authenticates, and the data is all there.
	wantKVs(t, "after restart", c.get(""), kv("a", 1, "a1"), kv("b", 0, "b0"))
	// The pending transaction still holds its keys; the fence still refuses.
	if r := c.put(kv("b", 1, "other")); r.Success || len(r.Reservations) != 1 {
		t.Errorf("put on a key reserved before the restart: %v", r)
	}
	if r, err := c.prepare(fenced, kv("z", 0, "")); err != nil || r.State != lsspb.TxState_TX_ABORTED {
		t.Errorf("prepare of a txid fenced before the restart: %v, %v; want TX_ABORTED", r, err)
	}
	if r, err := c.tx(commitCall, pending); err != nil || r.State != lsspb.TxState_TX_COMMITTED {
		t.Fatalf("commit after restart: %v, %v", r, err)
	}
	wantKVs(t, "after commit", c.get(""), kv("a", 1, "a1"), kv("b", 1, "b1"), kv("c", 0, "c0"))
}

func TestKillKeepsAcknowledgedPuts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d1, err := Start(context.Background(), boltOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, dial(t, d1.Addr()), d1.ServerID())
	for v := range int64(5) {
		c.mustPut(kv("k", v, "v"))
	}
	if err := d1.Kill(); err != nil {
		t.Fatal(err)
	}
	d2 := startDaemon(t, boltOptions(t, dir))
	c = reconnect(t, c, d2)
	wantKVs(t, "after kill", c.get(""), kv("k", 4, "v"))
}

func TestSecondDaemonOnSameDataDirRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startDaemon(t, boltOptions(t, dir))
	d, err := Start(context.Background(), boltOptions(t, dir))
	if err == nil {
		d.Kill()
		t.Fatal("a second daemon opened the same database")
	}
	if !strings.Contains(err.Error(), "lock") {
		t.Errorf("error %q does not say the database is locked", err)
	}
}
