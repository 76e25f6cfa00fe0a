package lssd

import (
	"bytes"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
)

// server starts a memory daemon and returns a connected test client.
func server(t *testing.T) (*Daemon, *client) {
	t.Helper()
	d := startDaemon(t, testOptions(t))
	rpc := dial(t, d.Addr())
	return d, newClient(t, rpc, d.ServerID())
}

func TestPingAndInfo(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	ping, err := c.rpc.Ping(ctxT(t), &lsspb.PingRequest{Message: "hello"})
	if err != nil || ping.Message != "hello" {
		t.Fatalf("Ping = %v, %v; want echo", ping, err)
	}
	info, err := c.rpc.Info(ctxT(t), &lsspb.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "lssd "+Version() {
		t.Errorf("version = %q", info.Version)
	}
	if len(info.ServerId) != 33 || !bytes.Equal(info.ServerId, d.ServerID()) {
		t.Errorf("server_id = %x, want %x", info.ServerId, d.ServerID())
	}
	if _, err := wire.ParsePublicKey(info.ServerId); err != nil {
		t.Errorf("server_id is not a public key: %v", err)
	}
}

func TestPutThenGet(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("a/1", 0, "one"), kv("a/2", 0, "two"), kv("b", 0, ""))
	c.mustPut(kv("a/1", 1, "uno"))

	wantKVs(t, "get all", c.get(""), kv("a/1", 1, "uno"), kv("a/2", 0, "two"), kv("b", 0, ""))
	wantKVs(t, "get a/", c.get("a/"), kv("a/1", 1, "uno"), kv("a/2", 0, "two"))
	wantKVs(t, "get exact key", c.get("a/2"), kv("a/2", 0, "two"))
	wantKVs(t, "get nothing", c.get("c"))

	// An empty Put is a valid, empty transaction.
	c.mustPut()
}

func TestGetPrefixIsLiteral(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("a%", 0, "1"), kv("a.b", 0, "2"), kv("a\\", 0, "5"), kv("a_", 0, "3"), kv("ab", 0, "4"))
	wantKVs(t, "prefix a.", c.get("a."), kv("a.b", 0, "2"))
	wantKVs(t, "prefix a%", c.get("a%"), kv("a%", 0, "1"))
	wantKVs(t, "prefix a_", c.get("a_"), kv("a_", 0, "3"))
	wantKVs(t, "prefix a\\", c.get("a\\"), kv("a\\", 0, "5"))
	if got := c.get("a"); len(got) != 5 {
		t.Errorf("prefix a: %d keys, want 5", len(got))
	}
}

func TestGetNonceAnyLength(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("k", 0, "v"))
	for _, nonce := range [][]byte{nil, {0x01}, bytes.Repeat([]byte{7}, 1000)} {
		reply, err := c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), Nonce: nonce})
		if err != nil {
			t.Fatalf("nonce of %d bytes: %v", len(nonce), err)
		}
		if !bytes.Equal(reply.Hmac, wire.GetReplyHMAC(c.secret, nonce, reply.Kvs)) {
			t.Errorf("nonce of %d bytes: reply hmac does not verify", len(nonce))
		}
	}
}

// TestPutBadInput sends each kind of bad Put, checks its status (which also checks
// the order of the checks, since several cases fail more than one) and that nothing
// was written.
func TestPutBadInput(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	c.mustPut(kv("existing", 0, "old"))
	other := newClient(t, c.rpc, d.ServerID())
	notOnCurve := append([]byte{0x02}, bytes.Repeat([]byte{0xff}, 32)...)

	good := []*lsspb.KeyValue{kv("existing", 1, "new"), kv("fresh", 0, "x")}
	unsorted := []*lsspb.KeyValue{kv("fresh", 0, "x"), kv("existing", 1, "new")}
	dup := []*lsspb.KeyValue{kv("fresh", 0, "x"), kv("fresh", 0, "y")}
	withMAC := func(auth *lsspb.Auth, kvs []*lsspb.KeyValue) *lsspb.PutRequest {
		return &lsspb.PutRequest{Auth: auth, Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)}
	}
	cases := []struct {
		name  string
		req   *lsspb.PutRequest
		code  codes.Code
		words []string
	}{
		{"auth missing", withMAC(nil, good), codes.InvalidArgument, []string{"auth missing"}},
		{"auth missing beats unsorted keys", withMAC(nil, unsorted), codes.InvalidArgument, []string{"auth missing"}},
		{"unsorted keys", withMAC(c.auth(), unsorted), codes.InvalidArgument, []string{"ascending"}},
		{"duplicate keys", withMAC(c.auth(), dup), codes.InvalidArgument, []string{"duplicate", "fresh"}},
		{"unsorted keys beat bad client_id", withMAC(&lsspb.Auth{ClientId: notOnCurve, Token: c.token}, unsorted),
			codes.InvalidArgument, []string{"ascending"}},
		{"empty auth", withMAC(&lsspb.Auth{}, good), codes.Unauthenticated, []string{"client_id"}},
		{"client_id not on curve", withMAC(&lsspb.Auth{ClientId: notOnCurve, Token: c.token}, good),
			codes.Unauthenticated, []string{"client_id"}},
		{"client_id too short", withMAC(&lsspb.Auth{ClientId: c.id[:32], Token: c.token}, good),
			codes.Unauthenticated, []string{"client_id"}},
		{"bad client_id beats bad token", withMAC(&lsspb.Auth{ClientId: notOnCurve}, good),
			codes.Unauthenticated, []string{"client_id"}},
		{"wrong token", withMAC(&lsspb.Auth{ClientId: c.id, Token: other.token}, good),
			codes.InvalidArgument, []string{"token"}},
		{"missing token", withMAC(&lsspb.Auth{ClientId: c.id}, good), codes.InvalidArgument, []string{"token"}},
		{"bad token beats bad hmac", &lsspb.PutRequest{Auth: &lsspb.Auth{ClientId: c.id, Token: other.token}, Kvs: good},
			codes.InvalidArgument, []string{"token"}},
		{"missing hmac", &lsspb.PutRequest{Auth: c.auth(), Kvs: good}, codes.InvalidArgument, []string{"hmac"}},
		{"hmac over other kvs", &lsspb.PutRequest{Auth: c.auth(), Kvs: good,
			Hmac: wire.PutRequestHMAC(c.secret, []*lsspb.KeyValue{kv("existing", 1, "NEW"), kv("fresh", 0, "x")})},
			codes.InvalidArgument, []string{"hmac"}},
		{"hmac under another client's secret", &lsspb.PutRequest{Auth: c.auth(), Kvs: good,
			Hmac: wire.PutRequestHMAC(other.secret, good)}, codes.InvalidArgument, []string{"hmac"}},
		{"reply hmac sent as request hmac", &lsspb.PutRequest{Auth: c.auth(), Kvs: good,
			Hmac: wire.PutReplyHMAC(c.secret, good)}, codes.InvalidArgument, []string{"hmac"}},
	}
	for _, tc := range cases {
		_, err := c.rpc.Put(ctxT(t), tc.req)
		wantCode(t, tc.name, err, tc.code, tc.words...)
	}
	wantKVs(t, "after bad puts", c.get(""), kv("existing", 0, "old"))
	wantKVs(t, "other client after bad puts", other.get(""))
	// The good request itself is accepted.
	c.mustPut(good...)
}

func TestGetBadAuth(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	other := newClient(t, c.rpc, d.ServerID())
	for _, get := range []struct {
		name string
		call func(*lsspb.GetRequest) error
	}{
		{"Get", func(r *lsspb.GetRequest) error { _, err := c.rpc.Get(ctxT(t), r); return err }},
		{"BoundGet", func(r *lsspb.GetRequest) error { _, err := c.rpc.BoundGet(ctxT(t), r); return err }},
	} {
		wantCode(t, get.name+": auth missing", get.call(&lsspb.GetRequest{}), codes.InvalidArgument, "auth missing")
		wantCode(t, get.name+": empty auth", get.call(&lsspb.GetRequest{Auth: &lsspb.Auth{}}), codes.Unauthenticated, "client_id")
		wantCode(t, get.name+": wrong token", get.call(&lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: c.id, Token: other.token}}),
			codes.InvalidArgument, "token")
		wantCode(t, get.name+": missing token", get.call(&lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: c.id}}),
			codes.InvalidArgument, "token")
		wantCode(t, get.name+": client_id too short", get.call(&lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: c.id[:32], Token: c.token}}),
			codes.Unauthenticated, "client_id", "32 bytes")
		notOnCurve := append([]byte{0x02}, bytes.Repeat([]byte{0xff}, 32)...)
		wantCode(t, get.name+": client_id not on curve", get.call(&lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: notOnCurve, Token: c.token}}),
			codes.Unauthenticated, "client_id")
	}
}

func TestPutVersionConflicts(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("a", 0, "a0"), kv("c", 0, "c0"), kv("e", 0, "e0"))
	c.mustPut(kv("c", 1, "c1"))

	// Request order: a (stale: stored 0, sent 0), b (absent, sent 3), c (ok: 2),
	// d (absent, sent 0: ok), e (ahead: stored 0, sent 5). A negative version is
	// a conflict too (TestVersionBounds).
	reply := c.put(kv("a", 0, "x"), kv("b", 3, "x"), kv("c", 2, "x"), kv("d", 0, "x"), kv("e", 5, "x"))
	if reply.Success {
		t.Fatal("conflicting put succeeded")
	}
	if len(reply.Hmac) != 0 {
		t.Errorf("conflict reply carries hmac %x, want empty", reply.Hmac)
	}
	wantKVs(t, "conflicts", reply.Conflicts,
		kv("a", 0, "a0"), kv("b", -1, ""), kv("e", 0, "e0"))
	if len(reply.Reservations) != 0 {
		t.Errorf("reservations = %v, want none", reply.Reservations)
	}
	wantKVs(t, "nothing written", c.get(""), kv("a", 0, "a0"), kv("c", 1, "c1"), kv("e", 0, "e0"))
}

func TestNamespaceIsolation(t *testing.T) {
	t.Parallel()
	d, alice := server(t)
	bob := newClient(t, alice.rpc, d.ServerID())
	alice.mustPut(kv("shared-name", 0, "alice"))
	wantKVs(t, "bob sees nothing", bob.get(""))
	// Bob's own version 0 of the same key is not a conflict: a separate namespace.
	bob.mustPut(kv("shared-name", 0, "bob"))
	bob.mustPut(kv("shared-name", 1, "bob1"))
	wantKVs(t, "alice", alice.get(""), kv("shared-name", 0, "alice"))
	wantKVs(t, "bob", bob.get(""), kv("shared-name", 1, "bob1"))

	// Bob's token does not open Alice's namespace, even with a MAC made by Bob.
	kvs := []*lsspb.KeyValue{kv("shared-name", 1, "evil")}
	_, err := bob.rpc.Put(ctxT(t), &lsspb.PutRequest{Auth: &lsspb.Auth{ClientId: alice.id, Token: bob.token},
		Kvs: kvs, Hmac: wire.PutRequestHMAC(bob.secret, kvs)})
	wantCode(t, "bob as alice", err, codes.InvalidArgument, "token")
	// A token alone (an unprivileged proxy) cannot write: it cannot make the HMAC.
	_, err = bob.rpc.Put(ctxT(t), &lsspb.PutRequest{Auth: alice.auth(), Kvs: kvs, Hmac: wire.PutRequestHMAC(alice.token, kvs)})
	wantCode(t, "token holder", err, codes.InvalidArgument, "hmac")
	wantKVs(t, "alice untouched", alice.get(""), kv("shared-name", 0, "alice"))
}
