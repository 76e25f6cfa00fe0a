package lssd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// rawCodec sends and receives bytes as they are, so a test can put anything on
// the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// rawCall invokes method with body as the request bytes.
func rawCall(t *testing.T, addr, method string, body []byte) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out []byte
	return conn.Invoke(ctxT(t), "/lss.LightningStorage/"+method, &body, &out)
}

// putWithKey is a PutRequest's bytes with one kv whose key field holds key as
// is (possibly not UTF-8), and the given auth. A RestoreRequest has the same
// layout.
func putWithKey(auth *lsspb.Auth, key []byte) []byte { return requestWithKey(auth, 2, key) }

// requestWithKey is a request's bytes with auth in field 1 and, in field
// kvsField, one kv whose key field holds key as is.
func requestWithKey(auth *lsspb.Auth, kvsField protowire.Number, key []byte) []byte {
	var a []byte
	a = protowire.AppendTag(a, 1, protowire.BytesType)
	a = protowire.AppendBytes(a, auth.ClientId)
	a = protowire.AppendTag(a, 2, protowire.BytesType)
	a = protowire.AppendBytes(a, auth.Token)
	var k []byte
	k = protowire.AppendTag(k, 1, protowire.BytesType)
	k = protowire.AppendBytes(k, key)
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, a)
	b = protowire.AppendTag(b, kvsField, protowire.BytesType)
	b = protowire.AppendBytes(b, k)
	return b
}

func TestUndecodableRequestIsInvalidArgument(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	notUTF8 := []byte{'k', 0xff, 0xfe}
	// A TxRequest whose txid says 16 bytes and holds 1.
	truncatedTx := []byte{0x12, 0x10, 0x01}
	cases := []struct {
		name, method, message string
		body                  []byte
	}{
		{"garbage Put", "Put", "PutRequest", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"truncated Put", "Put", "PutRequest", putWithKey(c.auth(), []byte("key"))[:20]},
		{"non-UTF-8 key", "Put", "PutRequest", putWithKey(c.auth(), notUTF8)},
		{"garbage Get", "Get", "GetRequest", []byte{0x0a, 0x50, 0x01}},
		{"non-UTF-8 prefix", "Get", "GetRequest", append([]byte{0x12, 0x02}, 0xc3, 0x28)},
		{"garbage BoundGet", "BoundGet", "GetRequest", []byte{0x0a, 0x50, 0x01}},
		{"non-UTF-8 BoundGet prefix", "BoundGet", "GetRequest", append([]byte{0x12, 0x02}, 0xc3, 0x28)},
		{"non-UTF-8 start_after", "BoundGet", "GetRequest", append([]byte{0x2a, 0x02}, 0xc3, 0x28)},
		{"garbage Restore", "Restore", "RestoreRequest", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"non-UTF-8 Restore key", "Restore", "RestoreRequest", putWithKey(c.auth(), notUTF8)},
		{"garbage Prepare", "Prepare", "PrepareRequest", []byte{0x12, 0xff}},
		{"non-UTF-8 Prepare key", "Prepare", "PrepareRequest", requestWithKey(c.auth(), 3, notUTF8)},
		{"truncated Commit", "Commit", "TxRequest", truncatedTx},
		{"truncated Fence", "Fence", "TxRequest", truncatedTx},
		{"truncated Abort", "Abort", "TxRequest", truncatedTx},
		{"garbage Status", "Status", "StatusRequest", []byte{0x08}},
		{"truncated SetExtensionOnly", "SetExtensionOnly", "ExtensionOnlyRequest", []byte{0x1a, 0x05}},
		{"garbage Ping", "Ping", "PingRequest", []byte{0x0a, 0x02, 0xff, 0xfe}},
		{"garbage Info", "Info", "InfoRequest", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tc := range cases {
		wantCode(t, tc.name, rawCall(t, d.Addr(), tc.method, tc.body), codes.InvalidArgument, "not a valid lss."+tc.message)
	}
	// A well-formed request through the same raw path still works.
	good := putWithKey(c.auth(), []byte("key"))
	wantCode(t, "well-formed put without hmac", rawCall(t, d.Addr(), "Put", good), codes.InvalidArgument, "hmac")
	wantKVs(t, "nothing written", c.get(""))
	if txs := c.status(); len(txs) != 0 {
		t.Errorf("undecodable requests left records: %v", txs)
	}
	// Nor did an undecodable SetExtensionOnly switch the namespace.
	c.mustPut(kv("k", 0, "v"))
}

func TestVersionBounds(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("j", 0, "j0"))
	for _, v := range []int64{-1, math.MinInt64, math.MaxInt64} {
		what := fmt.Sprintf("version %d", v)
		_, err := c.rpc.Restore(ctxT(t), restoreRequest(c, kv("k", v, "x")))
		wantCode(t, "Restore "+what, err, codes.InvalidArgument, "version", `"k"`, fmt.Sprint(v))
		if v < 0 {
			// The base protocol's version rule: a version other than the stored
			// one plus one (0 for an absent key) is a conflict, negative ones too.
			reply, err := c.rpc.Put(ctxT(t), c.putRequest(kv("j", v, "x"), kv("k", v, "x")))
			if err != nil || reply.Success {
				t.Fatalf("Put %s = %v, %v; want a conflict", what, reply, err)
			}
			wantKVs(t, "Put "+what+" conflicts", reply.Conflicts, kv("j", 0, "j0"), kv("k", -1, ""))
			r, err := c.prepare(txid(t), kv("k", v, "x"))
			if err != nil || len(r.Conflicts) != 1 || r.Conflicts[0].GetStored().GetVersion() != -1 {
				t.Fatalf("Prepare %s = %v, %v; want a conflict on k", what, r, err)
			}
			continue
		}
		_, err = c.rpc.Put(ctxT(t), c.putRequest(kv("k", v, "x")))
		wantCode(t, "Put "+what, err, codes.InvalidArgument, "version", `"k"`, fmt.Sprint(v))
		_, err = c.prepare(txid(t), kv("k", v, "x"))
		wantCode(t, "Prepare "+what, err, codes.InvalidArgument, "version", `"k"`, fmt.Sprint(v))
	}
	wantKVs(t, "nothing written", c.get(""), kv("j", 0, "j0"))
	// The attack the bound stops: a restore to the top, then a put that wraps.
	top := int64(math.MaxInt64 - 1)
	if _, err := c.rpc.Restore(ctxT(t), restoreRequest(c, kv("k", top, "x"))); err != nil {
		t.Fatalf("restore at %d: %v", top, err)
	}
	_, err := c.rpc.Put(ctxT(t), c.putRequest(kv("k", math.MaxInt64, "y")))
	wantCode(t, "put past the highest version", err, codes.InvalidArgument, "no successor")
	wantKVs(t, "stored", c.get(""), kv("j", 0, "j0"), kv("k", top, "x"))
}

// The Rust server's default databases store any key its protobuf layer accepts
// (any UTF-8 string): the empty key and keys holding NUL included. So do we.
func TestEmptyAndNULKeysFollowTheRustServer(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("", 0, "empty"), kv("a\x00b", 0, "nul"), kv("a\x00c", 0, "nul2"))
	wantKVs(t, "all", c.get(""), kv("", 0, "empty"), kv("a\x00b", 0, "nul"), kv("a\x00c", 0, "nul2"))
	wantKVs(t, "prefix with NUL", c.get("a\x00b"), kv("a\x00b", 0, "nul"))
	c.mustPut(kv("", 1, "again"))
	wantKVs(t, "empty key updated", c.get(""), kv("", 1, "again"), kv("a\x00b", 0, "nul"), kv("a\x00c", 0, "nul2"))
}

// hybrid is the 65-byte hybrid encoding of pub (tag 0x06 or 0x07 by Y's parity).
func hybrid(pub *secp256k1.PublicKey) []byte {
	u := pub.SerializeUncompressed()
	u[0] = 0x06 | u[64]&1
	return u
}

func TestUncompressedClientIDAcceptedAsTheRustServerDoes(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	priv, _ := secp256k1.GeneratePrivateKey()
	serverPub, _ := wire.ParsePublicKey(d.ServerID())
	secret := wire.SharedSecret(priv, serverPub)
	token := wire.Token(secret)
	as := func(id []byte) *client {
		return &client{t: t, rpc: c.rpc, id: id, secret: secret[:], token: token[:]}
	}
	compressed := as(priv.PubKey().SerializeCompressed())
	uncompressed := as(priv.PubKey().SerializeUncompressed())
	hyb := as(hybrid(priv.PubKey()))

	uncompressed.mustPut(kv("k", 0, "from uncompressed"))
	hyb.mustPut(kv("k", 1, "from hybrid"))
	// One key, one namespace: every encoding sees the same data.
	for _, cl := range []*client{compressed, uncompressed, hyb} {
		wantKVs(t, fmt.Sprintf("read with a %d-byte id %#x", len(cl.id), cl.id[0]), cl.get(""), kv("k", 1, "from hybrid"))
	}
	// ...and no other client's.
	wantKVs(t, "other client", c.get(""))

	// A hybrid tag contradicting Y's parity, or a point off the curve, is refused.
	bad := hybrid(priv.PubKey())
	bad[0] ^= 1
	_, err := c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: bad, Token: token[:]}})
	wantCode(t, "hybrid with the wrong parity", err, codes.Unauthenticated, "parity")
	off := priv.PubKey().SerializeUncompressed()
	off[64] ^= 1
	_, err = c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: off, Token: token[:]}})
	wantCode(t, "uncompressed point off the curve", err, codes.Unauthenticated, "client_id")
	for _, tag := range []byte{0x05, 0x02} {
		id := priv.PubKey().SerializeUncompressed()
		id[0] = tag
		_, err = c.rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: id, Token: token[:]}})
		wantCode(t, fmt.Sprintf("65 bytes with tag %#x", tag), err, codes.Unauthenticated, "client_id")
	}
}

// The shared secret of an uncompressed client_id is the Rust server's: SHA256 of
// the compressed ECDH point, the same as for the compressed id (docs/protocol.md's
// vectors).
func TestUncompressedClientIDSecretMatchesVector(t *testing.T) {
	clientPriv := secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x11}, 32))
	serverPriv := secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x22}, 32))
	a := newAuthenticator(serverPriv, 0)
	want, _ := hexBytes("b36b6d195982c5be874d6d542dc268234379e1ae4ff1709402135b7de5cf0766")
	token := sha256.Sum256(want)
	for _, id := range [][]byte{clientPriv.PubKey().SerializeUncompressed(), hybrid(clientPriv.PubKey())} {
		auth := &lsspb.Auth{ClientId: id, Token: token[:]}
		got, err := a.authenticate(auth)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%#x...: secret %x, %v; want %x", id[0], got, err, want)
		}
		if !bytes.Equal(auth.ClientId, clientPriv.PubKey().SerializeCompressed()) {
			t.Errorf("%#x...: namespace %x, want the compressed id", id[0], auth.ClientId)
		}
	}
}

func TestForgedIdentitiesDoNotEvictCachedClient(t *testing.T) {
	server, _ := secp256k1.GeneratePrivateKey()
	a := newAuthenticator(server, 20)
	priv, _ := secp256k1.GeneratePrivateKey()
	secret := wire.SharedSecret(priv, server.PubKey())
	token := wire.Token(secret)
	legit := wire.PublicID(priv)
	if _, err := a.authenticate(&lsspb.Auth{ClientId: legit, Token: token[:]}); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		p, _ := secp256k1.GeneratePrivateKey()
		a.authenticate(&lsspb.Auth{ClientId: wire.PublicID(p), Token: token[:]})
	}
	if !a.cached(legit) {
		t.Error("identities with wrong tokens evicted the cached client")
	}
	if n := a.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries; identities that failed the token check must not be cached", n)
	}
	// Real identities do enter; the least recently used leaves first.
	for i := range 40 {
		p, _ := secp256k1.GeneratePrivateKey()
		s := wire.SharedSecret(p, server.PubKey())
		tok := wire.Token(s)
		if _, err := a.authenticate(&lsspb.Auth{ClientId: wire.PublicID(p), Token: tok[:]}); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			a.authenticate(&lsspb.Auth{ClientId: legit, Token: token[:]}) // in steady use
		}
	}
	if !a.cached(legit) || a.cache.len() != 20 {
		t.Errorf("cached=%v len=%d; want the client in use kept in a full cache of 20", a.cached(legit), a.cache.len())
	}
}

func TestNewClientRateLimitPerPeer(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.NewClientsPerSecond = 0.001
	opts.Limits.NewClientsBurst = 3
	d := startDaemon(t, opts)
	rpc := dial(t, d.Addr())
	known := newClient(t, rpc, d.ServerID())
	known.mustPut(kv("k", 0, "v")) // 1 of the burst
	for i := range 2 {
		newClient(t, rpc, d.ServerID()).get("") // 2 and 3
		_ = i
	}
	_, err := rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: newClient(t, rpc, d.ServerID()).auth()})
	wantCode(t, "fourth new client", err, codes.ResourceExhausted, "new client_ids")
	// Made-up identities are counted too: they cost an ECDH each.
	_, err = rpc.Get(ctxT(t), &lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: known.id[:32]}})
	wantCode(t, "made-up identity", err, codes.ResourceExhausted)
	// A client already authenticated is not slowed.
	for range 10 {
		wantKVs(t, "known client", known.get(""), kv("k", 0, "v"))
	}
}

func TestPeerPrefix(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:5", "192.0.2.7/32"},
		{"[2001:db8:1:2:3:4:5:6]:5", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:5", "192.0.2.7/32"},
	} {
		a, _ := net.ResolveTCPAddr("tcp", tc.addr)
		ctx := peerContext(a)
		if got := peerPrefix(ctx).String(); got != tc.want {
			t.Errorf("peerPrefix(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

func TestKeyFileReadableByOthersRefused(t *testing.T) {
	t.Parallel()
	opts := boltOptions(t, t.TempDir())
	d := startDaemon(t, opts)
	d.Kill()
	path := opts.DataDir + "/" + KeyFileName
	if err := chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err := startNoCleanup(opts); err == nil {
		d.Kill()
		t.Fatal("started with a world-readable key file")
	} else if !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), "--allow-insecure-key-file") {
		t.Errorf("error %q does not say how to fix it", err)
	}
	logs := &syncWriter{w: &bytes.Buffer{}}
	opts.AllowInsecureKeyFile = true
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	startDaemon(t, opts)
	if !strings.Contains(logs.String(), "accessible to group or others") {
		t.Errorf("no warning logged with the override; logs:\n%s", logs.String())
	}
}

func TestPlaintextOnNonLoopbackWarns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		warn bool
	}{{"127.0.0.1:1", false}, {"[::1]:1", false}, {"192.0.2.1:55551", true}, {"0.0.0.0:55551", true}} {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a, _ := net.ResolveTCPAddr("tcp", tc.addr)
		logs := &syncWriter{w: &bytes.Buffer{}}
		opts := testOptions(t)
		opts.Listener = addrListener{Listener: lis, addr: a}
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
		startDaemon(t, opts)
		if got := strings.Contains(logs.String(), "plaintext"); got != tc.warn {
			t.Errorf("listening on %s: warned=%v, want %v; logs:\n%s", tc.addr, got, tc.warn, logs.String())
		}
	}
}

// addrListener reports addr as its address, to start a daemon that believes it
// listens there.
type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }

// syncWriter serializes writes from the daemon's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func peerContext(a net.Addr) context.Context {
	return peer.NewContext(context.Background(), &peer.Peer{Addr: a})
}

func hexBytes(s string) ([]byte, error) { return hex.DecodeString(s) }

func chmod(path string, mode os.FileMode) error { return os.Chmod(path, mode) }

// TestRefusedWritesLoseNothing: a client holding data, a prepared transaction and
// a committed one sends every write RPC (Put, Restore, Prepare, Commit, Abort,
// Fence, SetExtensionOnly) refused in each way that gets past the shape checks: a
// MAC that does not verify or belongs to another kind of request, another
// client's token, proofs that do not fit, writes that differ from the prepared
// ones, a state change the txid's state forbids. Each is refused with its code
// and a message naming the problem; afterwards every key (txid and proof
// included), every record and every reservation is as it was, the namespace's
// generation has not moved, the unknown txid was not fenced, and the prepared
// transaction still commits. On the memory store and on bbolt (real files).
func TestRefusedWritesLoseNothing(t *testing.T) {
	t.Parallel()
	for _, database := range []string{"memory", "bolt"} {
		t.Run(database, func(t *testing.T) {
			t.Parallel()
			opts := testOptions(t)
			opts.Database = database
			d := startDaemon(t, opts)
			c := newClient(t, dial(t, d.Addr()), d.ServerID())
			refusedWritesLoseNothing(t, c, newClient(t, c.rpc, d.ServerID()))
		})
	}
}

func refusedWritesLoseNothing(t *testing.T, c, other *client) {
	c.mustPut(kv("a", 0, "a0"), kv("b", 0, "b0"))
	c.mustPut(kv("a", 1, "a1"))
	committed, pending, fresh := txid(t), txid(t), txid(t)
	if _, err := c.prepare(committed, kv("c", 0, "c0")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.tx(commitCall, committed); err != nil {
		t.Fatal(err)
	}
	seal := bytes.Repeat([]byte{0x5e}, 32)
	if r, err := c.prepareSealed(pending, ids(3), 2, seal, kv("b", 1, "b1"), kv("p", 0, "p0")); err != nil || r.State != lsspb.TxState_TX_PREPARED {
		t.Fatalf("prepare: %v, %v", r, err)
	}
	proofs := [][]byte{testProof(pending, "b"), testProof(pending, "p")}

	snapshot := func() ([]*lsspb.KeyValue, []*lsspb.Transaction, []byte) {
		page := c.boundGetPage("", nil, 100)
		return page.Kvs, c.status(), page.Generation
	}
	kvs0, txs0, gen0 := snapshot()

	// txReq is a TxRequest for id with proofs under the MAC of domain and secret.
	txReq := func(secret []byte, domain wire.Domain, id []byte, proofs [][]byte) *lsspb.TxRequest {
		return &lsspb.TxRequest{Auth: c.auth(), Txid: id, Proofs: proofs, Hmac: wire.TxRequestMAC(secret, domain, id, proofs)}
	}
	bump := []*lsspb.KeyValue{kv("a", 2, "evil")}
	restoreBump := []*lsspb.KeyValue{kv("a", 9, "evil"), kv("z", 0, "evil")}
	nonce := []byte("nonce")
	overlong := bytes.Repeat([]byte{1}, 65)
	cases := []struct {
		name  string
		call  func() error
		code  codes.Code
		words []string
	}{
		{"Put with another client's MAC", func() error {
			_, err := c.rpc.Put(ctxT(t), &lsspb.PutRequest{Auth: c.auth(), Kvs: bump, Hmac: wire.PutRequestHMAC(other.secret, bump)})
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Put with the reply MAC", func() error {
			_, err := c.rpc.Put(ctxT(t), &lsspb.PutRequest{Auth: c.auth(), Kvs: bump, Hmac: wire.PutReplyHMAC(c.secret, bump)})
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Put with another client's token", func() error {
			_, err := c.rpc.Put(ctxT(t), &lsspb.PutRequest{Auth: &lsspb.Auth{ClientId: c.id, Token: other.token}, Kvs: bump,
				Hmac: wire.PutRequestHMAC(c.secret, bump)})
			return err
		}, codes.InvalidArgument, []string{"token"}},
		{"Put carrying a txid and proof", func() error {
			_, err := c.rpc.Put(ctxT(t), c.putRequest(txKV(pending, "a", 2, "evil")))
			return err
		}, codes.InvalidArgument, []string{"txid or proof", `"a"`}},
		{"Restore with another client's MAC", func() error {
			_, err := c.rpc.Restore(ctxT(t), &lsspb.RestoreRequest{Auth: c.auth(), Kvs: restoreBump, Hmac: wire.RestoreRequestMAC(other.secret, restoreBump)})
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Restore with a Put MAC", func() error {
			_, err := c.rpc.Restore(ctxT(t), &lsspb.RestoreRequest{Auth: c.auth(), Kvs: restoreBump, Hmac: wire.PutRequestHMAC(c.secret, restoreBump)})
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Restore of other writes under the prepared txid", func() error {
			_, err := c.rpc.Restore(ctxT(t), restoreRequest(c, txKV(pending, "b", 1, "forged"), txKV(pending, "p", 0, "p0")))
			return err
		}, codes.InvalidArgument, []string{"not the 2 writes prepared", hex.EncodeToString(pending)}},
		{"Restore of part of the prepared txid", func() error {
			_, err := c.rpc.Restore(ctxT(t), restoreRequest(c, txKV(pending, "p", 0, "p0")))
			return err
		}, codes.InvalidArgument, []string{"its 1 entries are not the 2 writes prepared"}},
		{"Restore with a proof but no txid", func() error {
			_, err := c.rpc.Restore(ctxT(t), restoreRequest(c, &lsspb.KeyValue{Key: "a", Version: 9, Proof: []byte("p")}))
			return err
		}, codes.InvalidArgument, []string{"proof but no txid", `"a"`}},
		{"Prepare of the pending txid with other writes", func() error {
			_, err := c.prepareSealed(pending, ids(3), 2, seal, kv("b", 1, "other"), kv("p", 0, "p0"))
			return err
		}, codes.FailedPrecondition, []string{hex.EncodeToString(pending)}},
		{"Prepare of the pending txid with another seal", func() error {
			_, err := c.prepareSealed(pending, ids(3), 2, []byte("other seal"), kv("b", 1, "b1"), kv("p", 0, "p0"))
			return err
		}, codes.FailedPrecondition, []string{hex.EncodeToString(pending)}},
		{"Prepare with another client's MAC", func() error {
			kvs := []*lsspb.KeyValue{kv("f", 0, "f0")}
			_, err := c.rpc.Prepare(ctxT(t), &lsspb.PrepareRequest{Auth: c.auth(), Txid: fresh, Kvs: kvs,
				Hmac: wire.PrepareRequestMAC(other.secret, fresh, kvs, nil, 0, nil)})
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Prepare carrying a txid", func() error {
			_, err := c.prepare(fresh, txKV(fresh, "f", 0, "f0"))
			return err
		}, codes.InvalidArgument, []string{"txid or proof", `"f"`}},
		{"Commit of the pending txid with another client's MAC", func() error {
			_, err := c.rpc.Commit(ctxT(t), txReq(other.secret, wire.DomainCommitRequest, pending, proofs))
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Commit with a Fence MAC", func() error {
			_, err := c.rpc.Commit(ctxT(t), txReq(c.secret, wire.FenceDomains[0], pending, proofs))
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Commit with one proof for two writes", func() error {
			_, err := c.txWith(commitCall, pending, proofs[:1])
			return err
		}, codes.InvalidArgument, []string{"1 proofs", "2 prepared", hex.EncodeToString(pending)}},
		{"Commit with three proofs for two writes", func() error {
			_, err := c.txWith(commitCall, pending, [][]byte{proofs[0], proofs[1], proofs[0]})
			return err
		}, codes.InvalidArgument, []string{"3 proofs", "2 prepared"}},
		{"Commit with an overlong proof", func() error {
			_, err := c.txWith(commitCall, pending, [][]byte{proofs[0], overlong})
			return err
		}, codes.InvalidArgument, []string{"proof 1", "65 bytes"}},
		{"Commit of an unknown txid", func() error {
			_, err := c.txWith(commitCall, fresh, nil)
			return err
		}, codes.NotFound, []string{hex.EncodeToString(fresh)}},
		{"Abort of the pending txid with another client's MAC", func() error {
			_, err := c.rpc.Abort(ctxT(t), txReq(other.secret, wire.DomainAbortRequest, pending, nil))
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Abort with a Fence MAC", func() error {
			_, err := c.rpc.Abort(ctxT(t), txReq(c.secret, wire.FenceDomains[0], pending, nil))
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Abort with proofs", func() error {
			_, err := c.txWith(abortCall, pending, proofs)
			return err
		}, codes.InvalidArgument, []string{"Abort", "only Commit"}},
		{"Abort of the committed txid", func() error {
			_, err := c.tx(abortCall, committed)
			return err
		}, codes.FailedPrecondition, []string{hex.EncodeToString(committed)}},
		{"Fence of an unknown txid with another client's MAC", func() error {
			_, err := c.rpc.Fence(ctxT(t), txReq(other.secret, wire.DomainFenceRequest, fresh, nil))
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Fence of the pending txid with an Abort MAC", func() error {
			_, err := c.rpc.Fence(ctxT(t), txReq(c.secret, wire.AbortDomains[0], pending, nil))
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
		{"Fence with proofs", func() error {
			_, err := c.txWith(fenceCall, fresh, proofs)
			return err
		}, codes.InvalidArgument, []string{"Fence", "only Commit"}},
		{"SetExtensionOnly with another client's MAC", func() error {
			_, err := c.rpc.SetExtensionOnly(ctxT(t), &lsspb.ExtensionOnlyRequest{Auth: c.auth(), Nonce: nonce,
				Hmac: wire.ExtensionOnlyRequestMAC(other.secret, nonce)})
			return err
		}, codes.InvalidArgument, []string{"hmac"}},
	}
	for _, tc := range cases {
		wantCode(t, tc.name, tc.call(), tc.code, tc.words...)
	}

	kvs1, txs1, gen1 := snapshot()
	if len(kvs1) != len(kvs0) {
		t.Fatalf("keys after refused writes:\n got  %v\n want %v", kvs1, kvs0)
	}
	for i := range kvs0 {
		if !proto.Equal(kvs1[i], kvs0[i]) {
			t.Errorf("key %d after refused writes: %v, want %v", i, kvs1[i], kvs0[i])
		}
	}
	if len(txs1) != len(txs0) {
		t.Fatalf("records after refused writes:\n got  %v\n want %v", txs1, txs0)
	}
	for i := range txs0 {
		if !proto.Equal(txs1[i], txs0[i]) {
			t.Errorf("record %d after refused writes: %v, want %v", i, txs1[i], txs0[i])
		}
	}
	if !bytes.Equal(gen1, gen0) {
		t.Errorf("generation moved from %x to %x: a refused request wrote", gen0, gen1)
	}

	// The prepared transaction still holds its keys...
	if r := c.put(kv("p", 0, "x")); r.Success || len(r.Reservations) != 1 || !bytes.Equal(r.Reservations[0].ReservedBy, pending) {
		t.Errorf("put on a key the prepared txid holds: %v, want refused as reserved by it", r)
	}
	// ...and commits; the unknown txid was not fenced; the namespace is not
	// extension-only.
	if r, err := c.txWith(commitCall, pending, proofs); err != nil || r.State != lsspb.TxState_TX_COMMITTED {
		t.Fatalf("commit of the prepared txid after the refusals: %v, %v", r, err)
	}
	if r, err := c.prepare(fresh, kv("f", 0, "f0")); err != nil || r.State != lsspb.TxState_TX_PREPARED {
		t.Errorf("prepare of the txid the refused Fence named: %v, %v; want prepared", r, err)
	}
	wantKVs(t, "after the commit", c.get(""), kv("a", 1, "a1"), kv("b", 1, "b1"), kv("c", 0, "c0"), kv("p", 0, "p0"))
	wantKVs(t, "other client", other.get(""))
}
