package lsscli

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/testcerts"
	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
)

// The docs/protocol.md test vectors for client key 0x11 repeated.
const (
	vecClientKey  = "1111111111111111111111111111111111111111111111111111111111111111"
	vecHMACSecret = "02d449a31fbb267c8f352e9968a79e3e5fc95c1bbeaa502fd6454ebde5a4bedc"
	vecEncrypted  = "32dfc6b39e6605ad5e98a4cfc5e6cd5d5e701df9bab7b7bc8c6e44852d06b2874d"
)

// startServer runs an in-process lssd on a random 127.0.0.1 port.
func startServer(t *testing.T) *lssd.Daemon {
	t.Helper()
	opts := lssd.DefaultOptions()
	opts.Port = 0
	opts.DataDir = t.TempDir()
	opts.Database = "memory"
	d, err := lssd.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Stop(ctx)
	})
	return d
}

// session runs lss-cli in process against one server and data directory.
type session struct {
	t       *testing.T
	rpc     string
	datadir string
}

func newSession(t *testing.T, d *lssd.Daemon) *session {
	return &session{t: t, rpc: "http://" + d.Addr(), datadir: t.TempDir()}
}

func (s *session) run(args ...string) cliResult {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	all := append([]string{"--rpc", s.rpc, "--datadir", s.datadir, "--timeout", "10s"}, args...)
	code := Main(ctx, all, &stdout, &stderr)
	return cliResult{stdout.String(), stderr.String(), code}
}

// mustFail checks a non-zero exit, nothing on stdout, and stderr containing want.
func (s *session) mustFail(want string, args ...string) {
	s.t.Helper()
	r := s.run(args...)
	if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, want) {
		s.t.Errorf("lss-cli %s = %+v, want failure mentioning %q and no output", strings.Join(args, " "), r, want)
	}
}

// rawPut writes one kv with the base protocol directly, bypassing lss-cli and
// the provider package, as another client (the Rust tool) would.
func rawPut(t *testing.T, d *lssd.Daemon, key *secp256k1.PrivateKey, kv *lsspb.KeyValue) {
	t.Helper()
	c, secret, auth := rawClient(t, d, key)
	kvs := []*lsspb.KeyValue{kv}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := c.Put(ctx, &lsspb.PutRequest{Auth: auth, Kvs: kvs, Hmac: wire.PutRequestHMAC(secret, kvs)})
	if err != nil || !reply.GetSuccess() {
		t.Fatalf("raw put: %v %v", reply, err)
	}
}

// rawGet reads a prefix with the base protocol directly.
func rawGet(t *testing.T, d *lssd.Daemon, key *secp256k1.PrivateKey, prefix string) []*lsspb.KeyValue {
	t.Helper()
	c, _, auth := rawClient(t, d, key)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := c.Get(ctx, &lsspb.GetRequest{Auth: auth, KeyPrefix: prefix, Nonce: []byte("n")})
	if err != nil {
		t.Fatal(err)
	}
	return reply.GetKvs()
}

func rawClient(t *testing.T, d *lssd.Daemon, key *secp256k1.PrivateKey) (lsspb.LightningStorageClient, []byte, *lsspb.Auth) {
	t.Helper()
	conn, err := grpc.NewClient(d.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pub, err := secp256k1.ParsePubKey(d.ServerID())
	if err != nil {
		t.Fatal(err)
	}
	secret := wire.SharedSecret(key, pub)
	token := wire.Token(secret)
	return lsspb.NewLightningStorageClient(conn), secret[:], &lsspb.Auth{ClientId: wire.PublicID(key), Token: token[:]}
}

func vectorKey(t *testing.T) *secp256k1.PrivateKey {
	b, _ := hex.DecodeString(vecClientKey)
	return secp256k1.PrivKeyFromBytes(b)
}

func TestReadsAndWritesTheRustValueFormat(t *testing.T) {
	t.Parallel()
	d := startServer(t)
	s := newSession(t, d)
	// The Rust tool's key file, written by hand.
	if err := os.WriteFile(filepath.Join(s.datadir, clientkey.ClientKeyFile), []byte(vecClientKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.run("init"); r.code != 0 || strings.Contains(r.stdout, "created client key") {
		t.Fatalf("init with an existing key: %+v", r)
	}

	// A value as the Rust client stores it, built from the protocol's rule.
	secret, _ := hex.DecodeString(vecHMACSecret)
	stored := wire.EncryptValue(secret, "xx1", 0, []byte{0x11})
	if hex.EncodeToString(stored) != vecEncrypted {
		t.Fatalf("EncryptValue = %x, want the test vector", stored)
	}
	rawPut(t, d, vectorKey(t), &lsspb.KeyValue{Key: "xx1", Version: 0, Value: stored})
	if r := s.run("get", "xx"); r.code != 0 || r.stdout != "key: xx1, version: 0 value: 11\n" {
		t.Errorf("get of a Rust-format value: %+v", r)
	}

	// And lss-cli writes exactly that format.
	if r := s.run("put", "xx1", "1", "22"); r.code != 0 {
		t.Fatalf("put: %+v", r)
	}
	got := rawGet(t, d, vectorKey(t), "xx1")
	if len(got) != 1 || !bytes.Equal(got[0].Value, wire.EncryptValue(secret, "xx1", 1, []byte{0x22})) {
		t.Errorf("stored by lss-cli: %v", got)
	}
}

func TestTamperedValueIsAnErrorNotData(t *testing.T) {
	t.Parallel()
	d := startServer(t)
	s := newSession(t, d)
	if err := os.WriteFile(filepath.Join(s.datadir, clientkey.ClientKeyFile), []byte(vecClientKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.run("init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := s.run("put", "a1", "0", "aa"); r.code != 0 {
		t.Fatalf("put: %+v", r)
	}
	// A value under another key whose HMAC does not verify.
	secret, _ := hex.DecodeString(vecHMACSecret)
	bad := wire.EncryptValue(secret, "a2", 0, []byte{0xbb})
	bad[0] ^= 1
	rawPut(t, d, vectorKey(t), &lsspb.KeyValue{Key: "a2", Version: 0, Value: bad})
	s.mustFail("value HMAC mismatch", "get", "a")
	if r := s.run("get", "a1"); r.code != 0 || r.stdout != "key: a1, version: 0 value: aa\n" {
		t.Errorf("get of the intact key: %+v", r)
	}
	// A conflict whose stored value fails its HMAC is not printed either.
	s.mustFail("value HMAC mismatch", "put", "a2", "0", "cc")
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	d := startServer(t)
	s := newSession(t, d)

	s.mustFail("not initialized", "get", "x")
	s.mustFail("not initialized", "put", "x", "0", "11")
	if r := s.run("info"); r.code != 0 || r.stdout != "not initialized\nserver public key not initialized\n" {
		t.Errorf("info before init: %+v", r)
	}
	if r := s.run("init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	s.mustFail("VERSION", "put", "x", "one", "11")
	s.mustFail("VERSION", "put", "--", "x", "-1", "11")
	s.mustFail("HEXVALUE", "put", "x", "0", "zz")
	s.mustFail("takes 3 argument(s)", "put", "x", "0")
	s.mustFail("takes 1 argument(s)", "get")
	s.mustFail("unknown command", "frobnicate")
	s.mustFail("neither a port number nor", "--rpc", "not a url", "ping")
	s.mustFail("need an https", "--tls-ca", "ca.pem", "get", "x")

	// A corrupt client key is an error, and stays as it was.
	keyPath := filepath.Join(s.datadir, clientkey.ClientKeyFile)
	if err := os.WriteFile(keyPath, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustFail("corrupt key file", "get", "x")
	s.mustFail("corrupt key file", "init")
	s.mustFail("corrupt key file", "info")
	if b, _ := os.ReadFile(keyPath); string(b) != "garbage" {
		t.Errorf("corrupt key file changed to %q", b)
	}
}

func TestInitRefusesAnotherServer(t *testing.T) {
	t.Parallel()
	d1, d2 := startServer(t), startServer(t)
	s := newSession(t, d1)
	if r := s.run("init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	pinned, _ := os.ReadFile(filepath.Join(s.datadir, clientkey.ServerKeyFile))
	s.rpc = "http://" + d2.Addr()
	s.mustFail("differs from the pinned one", "init")
	// put and get against the other server fail on the pinned server_id.
	s.mustFail("server_id does not match", "get", "")
	if now, _ := os.ReadFile(filepath.Join(s.datadir, clientkey.ServerKeyFile)); !bytes.Equal(now, pinned) {
		t.Error("pinned server key changed")
	}
}

func TestPingAndUnreachableServer(t *testing.T) {
	t.Parallel()
	d := startServer(t)
	s := newSession(t, d)
	_, port, _ := strings.Cut(d.Addr(), ":")
	s.rpc = port // a bare port means 127.0.0.1
	if r := s.run("ping"); r.code != 0 || r.stdout != "ping result: hello\n" {
		t.Errorf("ping: %+v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.Stop(ctx)
	s.mustFail("unreachable: connection refused", "--timeout", "2s", "ping")
}

func TestParseRPC(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"55551":                     "http://127.0.0.1:55551",
		"http://127.0.0.1:1234":     "http://127.0.0.1:1234",
		"https://lss.example.org:1": "https://lss.example.org:1",
	} {
		if got, err := parseRPC(in); err != nil || got != want {
			t.Errorf("parseRPC(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "65536", "localhost:1", "ftp://h:1", "http://", strconv.Itoa(-1)} {
		if got, err := parseRPC(bad); err == nil {
			t.Errorf("parseRPC(%q) = %q, want an error", bad, got)
		}
	}
}

func TestHTTPSWithCustomCAAndClientCertificate(t *testing.T) {
	t.Parallel()
	certs := testcerts.WriteFiles(t, t.TempDir())
	opts := lssd.DefaultOptions()
	opts.Port = 0
	opts.DataDir = t.TempDir()
	opts.Database = "memory"
	opts.TLSCert, opts.TLSKey, opts.TLSAuthority = certs.ServerCert, certs.ServerKey, certs.CA
	d, err := lssd.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Stop(ctx)
	})
	s := newSession(t, d)
	s.rpc = "https://" + d.Addr()
	tlsFlags := []string{"--tls-ca", certs.CA, "--tls-cert", certs.ClientCert, "--tls-key", certs.ClientKey}
	if r := s.run(append(tlsFlags, "init")...); r.code != 0 {
		t.Fatalf("init over mutual TLS: %+v", r)
	}
	if r := s.run(append(tlsFlags, "put", "k", "0", "abcd")...); r.code != 0 {
		t.Fatalf("put over mutual TLS: %+v", r)
	}
	if r := s.run(append(tlsFlags, "get", "k")...); r.code != 0 || r.stdout != "key: k, version: 0 value: abcd\n" {
		t.Errorf("get over mutual TLS: %+v", r)
	}
	// Without the client certificate the server refuses; without the CA the
	// client does not trust the server.
	s.mustFail("unreachable:", "--timeout", "2s", "--tls-ca", certs.CA, "get", "k")
	s.mustFail("certificate signed by unknown authority", "--timeout", "2s", "get", "k")
	s.mustFail("both a certificate and a key", "--tls-ca", certs.CA, "--tls-cert", certs.ClientCert, "get", "k")
}

func TestConflictWithAPendingTransaction(t *testing.T) {
	t.Parallel()
	d := startServer(t)
	s := newSession(t, d)
	if r := s.run("init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	key, err := clientkey.Load(filepath.Join(s.datadir, clientkey.ClientKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := provider.Dial(context.Background(), provider.Options{Addr: d.Addr(), ServerID: d.ServerID(), ClientKey: key, Encrypt: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	txid := bytes.Repeat([]byte{0xab}, 16)
	if _, err := c.Prepare(context.Background(), txid, provider.Quorum{}, nil, c.Seal([]provider.KV{{Key: "r", Version: 0, Value: []byte{1}}})); err != nil {
		t.Fatal(err)
	}
	r := s.run("put", "r", "0", "11")
	want := "conflict key: r, version: -1 value:  (reserved by pending transaction " + hex.EncodeToString(txid) + ")\n"
	if r.code != 1 || r.stdout != want || !strings.Contains(r.stderr, "put conflict") {
		t.Errorf("put on a reserved key = %+v, want stdout %q", r, want)
	}
}

func TestPutPrintsWhatItStoredAndConflictLeadsWithStoredVersion(t *testing.T) {
	t.Parallel()
	d := startServer(t)
	s := newSession(t, d)
	if r := s.run("init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := s.run("put", "k", "0", "abcd"); r.code != 0 || r.stdout != "stored key: k, version: 0 value: abcd\n" {
		t.Errorf("put: %+v", r)
	}
	r := s.run("put", "k", "0", "abcd")
	if r.code != ExitFailure || r.stdout != "conflict key: k, version: 0 value: abcd\n" ||
		!strings.HasPrefix(r.stderr, `lss-cli: stored version 0 of "k", sent version 0 (the next version is 1): put conflict`) {
		t.Errorf("conflicting put: %+v", r)
	}
}

func TestUnreachableAndTLSMismatchAreOneReadableLine(t *testing.T) {
	t.Parallel()
	certs := testcerts.WriteFiles(t, t.TempDir())
	opts := lssd.DefaultOptions()
	opts.Port = 0
	opts.DataDir = t.TempDir()
	opts.Database = "memory"
	opts.TLSCert, opts.TLSKey = certs.ServerCert, certs.ServerKey
	tlsServer, err := lssd.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tlsServer.Stop(ctx)
	})
	plain := startServer(t)
	for _, tc := range []struct {
		what string
		args []string
		want string
	}{
		{"nothing listening", []string{"--rpc", "1", "ping"}, "unreachable: connection refused"},
		{"plaintext to TLS", []string{"--rpc", "http://" + tlsServer.Addr(), "ping"}, "requires TLS (then use an https:// address)"},
		{"TLS to plaintext", []string{"--rpc", "https://" + plain.Addr(), "--tls-ca", certs.CA, "ping"}, "does not speak TLS; use an http:// address"},
	} {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		code := Main(ctx, append([]string{"--datadir", t.TempDir(), "--timeout", "10s"}, tc.args...), &stdout, &stderr)
		cancel()
		msg := stderr.String()
		if code != ExitFailure || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 || strings.Contains(msg, "rpc error") {
			t.Errorf("%s: status %d, stderr %q; want one line saying %q", tc.what, code, msg, tc.want)
		}
	}
}
