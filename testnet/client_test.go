package testnet

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// testClient speaks the base protocol to one provider over real gRPC, checking
// every reply HMAC, with nothing but lsspb and proto/wire.
type testClient struct {
	t      *testing.T
	priv   *secp256k1.PrivateKey
	id     []byte
	secret []byte
	token  []byte
	conn   *grpc.ClientConn
	rpc    lsspb.LightningStorageClient
}

// newTestClient connects a fresh client key to p.Addr. Reconnection backoff is
// kept short so that a call made soon after a restart or a heal gets through.
func newTestClient(t *testing.T, p *Provider) *testClient {
	t.Helper()
	priv, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return newTestClientWithKey(t, p, priv)
}

func newTestClientWithKey(t *testing.T, p *Provider, priv *secp256k1.PrivateKey) *testClient {
	t.Helper()
	serverPub, err := wire.ParsePublicKey(p.ServerID())
	if err != nil {
		t.Fatalf("%s server_id: %v", p.Name(), err)
	}
	secret := wire.SharedSecret(priv, serverPub)
	token := wire.Token(secret)
	conn, err := grpc.NewClient(p.Addr(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 10 * time.Millisecond, Multiplier: 1.6, MaxDelay: 100 * time.Millisecond},
			MinConnectTimeout: time.Second,
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testClient{
		t: t, priv: priv, id: wire.PublicID(priv), secret: secret[:], token: token[:],
		conn: conn, rpc: lsspb.NewLightningStorageClient(conn),
	}
}

func (c *testClient) auth() *lsspb.Auth { return &lsspb.Auth{ClientId: c.id, Token: c.token} }

func kv(key string, version int64, value string) *lsspb.KeyValue {
	return &lsspb.KeyValue{Key: key, Version: version, Value: []byte(value)}
}

// put sends one Put and checks the reply HMAC of a success.
func (c *testClient) put(ctx context.Context, kvs ...*lsspb.KeyValue) error {
	reply, err := c.rpc.Put(ctx, &lsspb.PutRequest{Auth: c.auth(), Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)})
	if err != nil {
		return err
	}
	if !reply.GetSuccess() {
		return fmt.Errorf("put refused: conflicts %v", reply.GetConflicts())
	}
	if !wire.Equal(reply.GetHmac(), wire.PutReplyHMAC(c.secret, kvs)) {
		return fmt.Errorf("put reply HMAC does not verify")
	}
	return nil
}

// get sends one Get and checks the reply HMAC.
func (c *testClient) get(ctx context.Context, prefix string) ([]*lsspb.KeyValue, error) {
	nonce := make([]byte, 32)
	rand.Read(nonce)
	reply, err := c.rpc.Get(ctx, &lsspb.GetRequest{Auth: c.auth(), KeyPrefix: prefix, Nonce: nonce})
	if err != nil {
		return nil, err
	}
	if !wire.Equal(reply.GetHmac(), wire.GetReplyHMAC(c.secret, nonce, reply.GetKvs())) {
		return nil, fmt.Errorf("get reply HMAC does not verify")
	}
	return reply.GetKvs(), nil
}

func (c *testClient) mustPut(kvs ...*lsspb.KeyValue) {
	c.t.Helper()
	if err := c.put(ctxT(c.t, 5*time.Second), kvs...); err != nil {
		c.t.Fatalf("put: %v", err)
	}
}

func (c *testClient) mustGet(prefix string) []*lsspb.KeyValue {
	c.t.Helper()
	kvs, err := c.get(ctxT(c.t, 5*time.Second), prefix)
	if err != nil {
		c.t.Fatalf("get %q: %v", prefix, err)
	}
	return kvs
}

// getEventually retries Get until it succeeds or a bounded time passes: after a
// restart or a heal, the client's connection needs a moment to come back.
func (c *testClient) getEventually(prefix string) []*lsspb.KeyValue {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		kvs, err := c.get(ctxT(c.t, time.Second), prefix)
		if err == nil {
			return kvs
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("get %q never succeeded: %v", prefix, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverID asks the provider for its server_id through Info.
func (c *testClient) serverID(ctx context.Context) ([]byte, error) {
	reply, err := c.rpc.Info(ctx, &lsspb.InfoRequest{})
	if err != nil {
		return nil, err
	}
	return reply.GetServerId(), nil
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// wantCode asserts err is a gRPC status with code.
func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("%s: got %v (%v), want %v", what, got, err, code)
	}
}

// wantKVs asserts got equals want, key, version and value.
func wantKVs(t *testing.T, what string, got []*lsspb.KeyValue, want ...*lsspb.KeyValue) {
	t.Helper()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = got[i].GetKey() == want[i].GetKey() && got[i].GetVersion() == want[i].GetVersion() &&
			string(got[i].GetValue()) == string(want[i].GetValue())
	}
	if !same {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}
