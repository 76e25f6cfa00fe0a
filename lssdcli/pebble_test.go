package lssdcli

import (
	"bytes"
	"strings"
	"syscall"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// TestPebbleDatabase runs lssd on --database pebble: a put survives a kill -9 and
// a restart, and a second lssd on the same data directory is refused while the
// first runs.
func TestPebbleDatabase(t *testing.T) {
	dir := t.TempDir()
	priv := secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x22}, 32))
	p := startBinary(t, "--datadir", dir, "--database", "pebble")
	c := newTestClient(t, p, priv)
	kvs := []*lsspb.KeyValue{{Key: "k", Version: 0, Value: []byte("v")}}
	reply, err := c.rpc.Put(ctx10(t), &lsspb.PutRequest{Auth: c.auth, Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)})
	if err != nil || !reply.Success {
		t.Fatalf("Put: %v, %v", reply, err)
	}

	out := runToExit(t, nil, "--datadir", dir, "--database", "pebble")
	if !strings.Contains(out, "locked") {
		t.Errorf("second lssd on the same pebble directory: want a lock error, got:\n%s", out)
	}

	p.signal(t, syscall.SIGKILL) // a process crash; its exit error is the kill
	p2 := startBinary(t, "--datadir", dir, "--database", "pebble")
	c2 := newTestClient(t, p2, priv)
	got, err := c2.rpc.Get(ctx10(t), &lsspb.GetRequest{Auth: c2.auth, Nonce: bytes.Repeat([]byte{1}, 32)})
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v" {
		t.Fatalf("Get after kill -9 and restart: %v, %v", got, err)
	}
	stop(t, p2)
}
