package lssd

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
)

func (c *client) setExtensionOnly() error {
	c.t.Helper()
	nonce := []byte("fresh nonce")
	req := &lsspb.ExtensionOnlyRequest{Auth: c.auth(), Nonce: nonce, Hmac: wire.ExtensionOnlyRequestMAC(c.secret, nonce)}
	reply, err := c.rpc.SetExtensionOnly(ctxT(c.t), req)
	if err == nil && !bytes.Equal(reply.Hmac, wire.ExtensionOnlyReplyMAC(c.secret, req.Hmac)) {
		c.t.Fatal("SetExtensionOnly reply MAC does not verify")
	}
	return err
}

// forgePut uses the base Get as a MAC oracle, holding only the victim's token: the
// shared HMAC has no length fields, so the reply HMAC of a Get whose nonce is
// 0x01 || X, over the stored ("k", 0, "v"), is the request HMAC of a Put whose kvs
// serialize to X || "k" || version || "v". It returns that Put's reply and error.
func forgePut(t *testing.T, victim *client) (*lsspb.PutReply, error) {
	token := &lsspb.Auth{ClientId: victim.id, Token: victim.token}
	var ver [8]byte
	x := append([]byte("a"), ver[:]...)
	x = append(x, "evil"...)
	x = append(x, "prefix-"...)
	oracle, err := victim.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: token, KeyPrefix: "k", Nonce: append([]byte{0x01}, x...)})
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint64(ver[:], 0)
	forged := []*lsspb.KeyValue{kv("a", 0, "evil"), kv("prefix-k", 0, "v")}
	return victim.rpc.Put(ctxT(t), &lsspb.PutRequest{Auth: token, Kvs: forged, Hmac: oracle.Hmac})
}

func TestBaseGetIsAMACOracleUnlessExtensionOnly(t *testing.T) {
	t.Parallel()
	d, victim := server(t)
	victim.mustPut(kv("k", 0, "v"))

	// The attack works on a namespace in the default mode...
	r, err := forgePut(t, victim)
	if err != nil || !r.Success {
		t.Fatalf("forged put in the default mode: %v, %v (the attack this test guards against should work here)", r, err)
	}
	wantKVs(t, "forged data", victim.get(""), kv("a", 0, "evil"), kv("k", 0, "v"), kv("prefix-k", 0, "v"))

	// ...and not once it is extension-only: the oracle and the base Put are refused.
	other := newClient(t, victim.rpc, d.ServerID())
	other.mustPut(kv("k", 0, "v"))
	if err := other.setExtensionOnly(); err != nil {
		t.Fatalf("SetExtensionOnly: %v", err)
	}
	_, err = forgePut(t, other)
	wantCode(t, "oracle Get on an extension-only namespace", err, codes.FailedPrecondition, "extension-only", "Get")
	_, err = other.rpc.Put(ctxT(t), other.putRequest(kv("z", 0, "x")))
	wantCode(t, "well-formed base Put", err, codes.FailedPrecondition, "extension-only", "Put")
	wantKVs(t, "extension read: nothing forged, no marker", other.boundGet(""), kv("k", 0, "v"))
	wantKVs(t, "victim's namespace unaffected", victim.get("k"), kv("k", 0, "v"))
}

func TestExtensionOnlyNamespaceWorksThroughTheExtension(t *testing.T) {
	t.Parallel()
	opts := boltOptions(t, t.TempDir())
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	for range 2 { // setting it again succeeds again
		if err := c.setExtensionOnly(); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := c.rpc.Restore(ctxT(t), restoreRequest(c, kv("r", 3, "restored"))); err != nil || len(r.Applied) != 1 {
		t.Fatalf("Restore: %v %v", r, err)
	}
	id := txid(t)
	if r, err := c.prepare(id, kv("p", 0, "prepared")); err != nil || r.State != lsspb.TxState_TX_PREPARED {
		t.Fatalf("Prepare: %v %v", r, err)
	}
	if _, err := c.tx(commitCall, id); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	got := c.boundGet("")
	if len(got) != 2 || got[0].Key != "p" || got[1].Key != "r" {
		t.Errorf("BoundGet = %v, want p and r only", got)
	}
	if txs := c.status(); len(txs) != 1 {
		t.Errorf("Status lists %d transactions, want 1", len(txs))
	}

	// A bad MAC sets nothing.
	o := newClient(t, c.rpc, d.ServerID())
	_, err := o.rpc.SetExtensionOnly(ctxT(t), &lsspb.ExtensionOnlyRequest{Auth: o.auth(), Hmac: wire.ExtensionOnlyRequestMAC(o.secret, []byte("other"))})
	wantCode(t, "bad MAC", err, codes.InvalidArgument, "hmac")
	o.mustPut(kv("k", 0, "v"))

	// The mode is durable: a restarted server still refuses the base Get.
	if err := d.Kill(); err != nil {
		t.Fatal(err)
	}
	d2 := startDaemon(t, opts)
	c2 := &client{t: t, rpc: dial(t, d2.Addr()), id: c.id, secret: c.secret, token: c.token}
	_, err = c2.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: c2.auth()})
	wantCode(t, "base Get after a restart", err, codes.FailedPrecondition, "extension-only")
}

func TestBaseOnlyServerHasNoExtensionOnlySwitch(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.BaseOnly = true
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	wantCode(t, "SetExtensionOnly on a base-only server", c.setExtensionOnly(), codes.Unimplemented)
}

// TestSetExtensionOnlyBadInput: each bad SetExtensionOnly is refused with its
// code and a message naming the problem, and switches nothing: the base Put and
// Get still work for the namespace afterwards.
func TestSetExtensionOnlyBadInput(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	other := newClient(t, c.rpc, d.ServerID())
	c.mustPut(kv("k", 0, "v"))
	nonce := []byte("fresh nonce")
	long := bytes.Repeat([]byte{7}, maxExtOnlyNonce+1)
	mac := wire.ExtensionOnlyRequestMAC(c.secret, nonce)
	for _, tc := range []struct {
		name  string
		req   *lsspb.ExtensionOnlyRequest
		code  codes.Code
		words []string
	}{
		{"auth missing", &lsspb.ExtensionOnlyRequest{Nonce: nonce, Hmac: mac}, codes.InvalidArgument, []string{"auth missing"}},
		{"empty auth", &lsspb.ExtensionOnlyRequest{Auth: &lsspb.Auth{}, Nonce: nonce, Hmac: mac}, codes.Unauthenticated, []string{"client_id"}},
		{"client_id too short", &lsspb.ExtensionOnlyRequest{Auth: &lsspb.Auth{ClientId: c.id[:32], Token: c.token}, Nonce: nonce, Hmac: mac},
			codes.Unauthenticated, []string{"client_id", "32 bytes"}},
		{"wrong token", &lsspb.ExtensionOnlyRequest{Auth: &lsspb.Auth{ClientId: c.id, Token: other.token}, Nonce: nonce, Hmac: mac},
			codes.InvalidArgument, []string{"token"}},
		{"nonce too long", &lsspb.ExtensionOnlyRequest{Auth: c.auth(), Nonce: long, Hmac: wire.ExtensionOnlyRequestMAC(c.secret, long)},
			codes.InvalidArgument, []string{"nonce", "65 bytes", "at most 64"}},
		{"nonce too long beats bad auth", &lsspb.ExtensionOnlyRequest{Auth: &lsspb.Auth{}, Nonce: long},
			codes.InvalidArgument, []string{"nonce", "65 bytes"}},
		{"missing hmac", &lsspb.ExtensionOnlyRequest{Auth: c.auth(), Nonce: nonce}, codes.InvalidArgument, []string{"hmac"}},
		{"hmac over another nonce", &lsspb.ExtensionOnlyRequest{Auth: c.auth(), Nonce: []byte("other"), Hmac: mac},
			codes.InvalidArgument, []string{"hmac"}},
		{"other client's hmac", &lsspb.ExtensionOnlyRequest{Auth: c.auth(), Nonce: nonce, Hmac: wire.ExtensionOnlyRequestMAC(other.secret, nonce)},
			codes.InvalidArgument, []string{"hmac"}},
		{"reply hmac sent as request hmac", &lsspb.ExtensionOnlyRequest{Auth: c.auth(), Nonce: nonce, Hmac: wire.ExtensionOnlyReplyMAC(c.secret, nonce)},
			codes.InvalidArgument, []string{"hmac"}},
	} {
		_, err := c.rpc.SetExtensionOnly(ctxT(t), tc.req)
		wantCode(t, tc.name, err, tc.code, tc.words...)
	}
	// Still in the default mode, data unchanged.
	wantKVs(t, "base Get after refused switches", c.get(""), kv("k", 0, "v"))
	c.mustPut(kv("k", 1, "w"))
	other.mustPut(kv("o", 0, "v"))
}
