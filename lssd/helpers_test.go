package lssd

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// testOptions are options for a daemon on a random loopback port with an
// in-memory store in a fresh data directory.
func testOptions(t *testing.T) Options {
	opts := DefaultOptions()
	opts.Port = 0
	opts.DataDir = t.TempDir()
	opts.Database = "memory"
	return opts
}

// startDaemon starts a daemon and stops it when the test ends.
func startDaemon(t *testing.T, opts Options) *Daemon {
	t.Helper()
	d, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return d
}

// dial connects to addr in plaintext and closes the connection when the test ends.
func dial(t *testing.T, addr string, opts ...grpc.DialOption) lsspb.LightningStorageClient {
	t.Helper()
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return lsspb.NewLightningStorageClient(conn)
}

// ctxT is a per-call context bounded well below the test timeout.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// client is a test LSS client: its own key, and the secrets it shares with one
// server, computed with proto/wire exactly as a real client does.
type client struct {
	t      *testing.T
	rpc    lsspb.LightningStorageClient
	id     []byte
	secret []byte
	token  []byte
}

func newClient(t *testing.T, rpc lsspb.LightningStorageClient, serverID []byte) *client {
	t.Helper()
	priv, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := wire.ParsePublicKey(serverID)
	if err != nil {
		t.Fatal(err)
	}
	secret := wire.SharedSecret(priv, pub)
	token := wire.Token(secret)
	return &client{t: t, rpc: rpc, id: wire.PublicID(priv), secret: secret[:], token: token[:]}
}

func (c *client) auth() *lsspb.Auth { return &lsspb.Auth{ClientId: c.id, Token: c.token} }

func kv(key string, version int64, value string) *lsspb.KeyValue {
	return &lsspb.KeyValue{Key: key, Version: version, Value: []byte(value)}
}

// putRequest is a well-formed Put of kvs.
func (c *client) putRequest(kvs ...*lsspb.KeyValue) *lsspb.PutRequest {
	return &lsspb.PutRequest{Auth: c.auth(), Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)}
}

// put sends a well-formed Put and checks the reply HMAC on success.
func (c *client) put(kvs ...*lsspb.KeyValue) *lsspb.PutReply {
	c.t.Helper()
	reply, err := c.rpc.Put(ctxT(c.t), c.putRequest(kvs...))
	if err != nil {
		c.t.Fatalf("Put: %v", err)
	}
	if reply.Success && !bytes.Equal(reply.Hmac, wire.PutReplyHMAC(c.secret, kvs)) {
		c.t.Fatalf("Put reply hmac does not verify")
	}
	return reply
}

// mustPut puts and requires success.
func (c *client) mustPut(kvs ...*lsspb.KeyValue) {
	c.t.Helper()
	if r := c.put(kvs...); !r.Success {
		c.t.Fatalf("Put refused: conflicts %v", r.Conflicts)
	}
}

// get reads prefix with a random nonce and checks the reply HMAC.
func (c *client) get(prefix string) []*lsspb.KeyValue {
	c.t.Helper()
	nonce := make([]byte, 32)
	rand.Read(nonce)
	reply, err := c.rpc.Get(ctxT(c.t), &lsspb.GetRequest{Auth: c.auth(), KeyPrefix: prefix, Nonce: nonce})
	if err != nil {
		c.t.Fatalf("Get(%q): %v", prefix, err)
	}
	if !bytes.Equal(reply.Hmac, wire.GetReplyHMAC(c.secret, nonce, reply.Kvs)) {
		c.t.Fatalf("Get(%q) reply hmac does not verify", prefix)
	}
	return reply.Kvs
}

// testProof stands in for a client's commit proof of id's write of key: the
// server stores it opaque.
func testProof(id []byte, key string) []byte {
	h := sha256.Sum256(append(append([]byte("proof/"), id...), key...))
	return h[:]
}

// txid returns a fresh random 32-byte txid.
func txid(t *testing.T) []byte {
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		t.Fatal(err)
	}
	return id
}

// prepare sends a well-formed Prepare and checks the reply MAC.
func (c *client) prepare(id []byte, kvs ...*lsspb.KeyValue) (*lsspb.TxReply, error) {
	c.t.Helper()
	reply, err := c.rpc.Prepare(ctxT(c.t), &lsspb.PrepareRequest{
		Auth: c.auth(), Txid: id, Kvs: kvs, Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, nil, 0, nil)})
	if err == nil {
		c.checkTxReply(wire.DomainPrepareReply, id, reply)
	}
	return reply, err
}

// txCall is Commit, Fence or Abort.
type txCall struct {
	name    string
	domains [2]wire.Domain
	call    func(lsspb.LightningStorageClient, context.Context, *lsspb.TxRequest, ...grpc.CallOption) (*lsspb.TxReply, error)
}

var (
	commitCall = txCall{"Commit", wire.CommitDomains, lsspb.LightningStorageClient.Commit}
	fenceCall  = txCall{"Fence", wire.FenceDomains, lsspb.LightningStorageClient.Fence}
	abortCall  = txCall{"Abort", wire.AbortDomains, lsspb.LightningStorageClient.Abort}
)

// tx sends a well-formed Commit, Fence or Abort and checks the reply MAC. A
// Commit carries a proof (testProof) for each write the server holds prepared
// under id, as its Status reports them.
func (c *client) tx(call txCall, id []byte) (*lsspb.TxReply, error) {
	c.t.Helper()
	var proofs [][]byte
	if call.name == "Commit" {
		for _, tx := range c.status() {
			if bytes.Equal(tx.Txid, id) {
				for _, kv := range tx.Kvs {
					proofs = append(proofs, testProof(id, kv.Key))
				}
			}
		}
	}
	return c.txWith(call, id, proofs)
}

// txWith sends call for id with proofs and checks the reply MAC.
func (c *client) txWith(call txCall, id []byte, proofs [][]byte) (*lsspb.TxReply, error) {
	c.t.Helper()
	reply, err := call.call(c.rpc, ctxT(c.t), &lsspb.TxRequest{
		Auth: c.auth(), Txid: id, Proofs: proofs, Hmac: wire.TxRequestMAC(c.secret, call.domains[0], id, proofs)})
	if err == nil {
		c.checkTxReply(call.domains[1], id, reply)
	}
	return reply, err
}

func (c *client) checkTxReply(d wire.Domain, id []byte, reply *lsspb.TxReply) {
	c.t.Helper()
	if !bytes.Equal(reply.Hmac, wire.TxReplyMAC(c.secret, d, id, reply.State, reply.Conflicts)) {
		c.t.Fatalf("tx reply (domain %#x) MAC does not verify", d)
	}
}

// status lists the client's transactions and checks the reply MAC.
func (c *client) status() []*lsspb.Transaction {
	c.t.Helper()
	nonce := []byte("status nonce")
	reply, err := c.rpc.Status(ctxT(c.t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: nonce})
	if err != nil {
		c.t.Fatalf("Status: %v", err)
	}
	if !bytes.Equal(reply.Hmac, wire.StatusReplyMAC(c.secret, nonce, reply.Transactions)) {
		c.t.Fatal("Status reply MAC does not verify")
	}
	return reply.Transactions
}

// wantCode fails unless err has code, and its message contains each of words.
func wantCode(t *testing.T, what string, err error, code codes.Code, words ...string) {
	t.Helper()
	st := status.Convert(err)
	if err == nil || st.Code() != code {
		t.Errorf("%s: got %v, want %v", what, err, code)
		return
	}
	for _, w := range words {
		if !bytes.Contains([]byte(st.Message()), []byte(w)) {
			t.Errorf("%s: message %q does not mention %q", what, st.Message(), w)
		}
	}
}

// sameKVs compares key-value lists.
func sameKVs(a, b []*lsspb.KeyValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Version != b[i].Version || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func wantKVs(t *testing.T, what string, got []*lsspb.KeyValue, want ...*lsspb.KeyValue) {
	t.Helper()
	if !sameKVs(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}
