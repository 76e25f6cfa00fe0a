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
// is (possibly not UTF-8), and the given auth.
func putWithKey(auth *lsspb.Auth, key []byte) []byte {
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
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, k)
	return b
}

func TestUndecodableRequestIsInvalidArgument(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	cases := []struct {
		name, method string
		body         []byte
	}{
		{"garbage Put", "Put", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"truncated Put", "Put", putWithKey(c.auth(), []byte("key"))[:20]},
		{"non-UTF-8 key", "Put", putWithKey(c.auth(), []byte{'k', 0xff, 0xfe})},
		{"garbage Get", "Get", []byte{0x0a, 0x50, 0x01}},
		{"non-UTF-8 prefix", "Get", append([]byte{0x12, 0x02}, 0xc3, 0x28)},
		{"garbage Prepare", "Prepare", []byte{0x12, 0xff}},
		{"garbage Status", "Status", []byte{0x08}},
		{"garbage Ping", "Ping", []byte{0x0a, 0x02, 0xff, 0xfe}},
	}
	for _, tc := range cases {
		wantCode(t, tc.name, rawCall(t, d.Addr(), tc.method, tc.body), codes.InvalidArgument, "not a valid lss.")
	}
	// A well-formed request through the same raw path still works.
	good := putWithKey(c.auth(), []byte("key"))
	wantCode(t, "well-formed put without hmac", rawCall(t, d.Addr(), "Put", good), codes.InvalidArgument, "hmac")
	wantKVs(t, "nothing written", c.get(""))
}

func TestVersionBounds(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	for _, v := range []int64{-1, math.MinInt64, math.MaxInt64} {
		what := fmt.Sprintf("version %d", v)
		_, err := c.rpc.Put(ctxT(t), c.putRequest(kv("k", v, "x")))
		wantCode(t, "Put "+what, err, codes.InvalidArgument, "version")
		_, err = c.rpc.Restore(ctxT(t), restoreRequest(c, kv("k", v, "x")))
		wantCode(t, "Restore "+what, err, codes.InvalidArgument, "version")
		_, err = c.prepare(txid(t), kv("k", v, "x"))
		wantCode(t, "Prepare "+what, err, codes.InvalidArgument, "version")
	}
	// The attack the bound stops: a restore to the top, then a put that wraps.
	top := int64(math.MaxInt64 - 1)
	if _, err := c.rpc.Restore(ctxT(t), restoreRequest(c, kv("k", top, "x"))); err != nil {
		t.Fatalf("restore at %d: %v", top, err)
	}
	_, err := c.rpc.Put(ctxT(t), c.putRequest(kv("k", math.MaxInt64, "y")))
	wantCode(t, "put past the highest version", err, codes.InvalidArgument, "no successor")
	wantKVs(t, "stored", c.get(""), kv("k", top, "x"))
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
