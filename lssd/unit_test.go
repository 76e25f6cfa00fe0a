package lssd

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestStatusCode(t *testing.T) {
	cases := map[error]codes.Code{
		store.ErrInvalid:            codes.InvalidArgument,
		store.ErrTxUnknown:          codes.NotFound,
		store.ErrCommitAborted:      codes.FailedPrecondition,
		store.ErrTxCommitted:        codes.FailedPrecondition,
		store.ErrTxMismatch:         codes.FailedPrecondition,
		store.ErrQuota:              codes.ResourceExhausted,
		rpctypes.ErrTooManyOps:      codes.ResourceExhausted,
		rpctypes.ErrRequestTooLarge: codes.ResourceExhausted,
		// etcd's gRPC server refusing a request over --max-request-bytes + 512 KiB
		status.Error(codes.ResourceExhausted, "grpc: received message larger than max (2097802 vs. 2097152)"): codes.ResourceExhausted,
		// etcd out of space is a storage failure, not the request's size
		rpctypes.ErrGRPCNoSpace:    codes.Internal,
		rpctypes.ErrNoSpace:        codes.Internal,
		store.ErrContention:        codes.Aborted,
		store.ErrUnavailable:       codes.Unavailable,
		context.Canceled:           codes.Canceled,
		context.DeadlineExceeded:   codes.DeadlineExceeded,
		fmt.Errorf("disk on fire"): codes.Internal,
	}
	for err, want := range cases {
		if got := statusCode(fmt.Errorf("wrapped: %w", err)); got != want {
			t.Errorf("statusCode(%v) = %v, want %v", err, got, want)
		}
	}
}

func TestLRUIsBoundedAndEvictsLeastRecentlyUsed(t *testing.T) {
	c := newLRU[string, int](3)
	for i := range 10 {
		c.put(fmt.Sprint(i), i)
		if c.len() > 3 {
			t.Fatalf("cache holds %d entries, limit 3", c.len())
		}
		if _, ok := c.get("0"); !ok && i < 10 {
			t.Fatalf("after %d puts the entry in steady use was evicted", i+1)
		}
	}
	c.put("9", 9) // refreshing an entry evicts nothing
	if v, ok := c.get("9"); !ok || v != 9 {
		t.Error("latest entry missing")
	}
	if got := c.keys(); len(got) != 3 || got[0] != "9" || got[1] != "0" || got[2] != "8" {
		t.Errorf("keys, most recent first = %v, want [9 0 8]", got)
	}
	c.remove("0")
	if _, ok := c.get("0"); ok || c.len() != 2 {
		t.Errorf("removed entry still there (len %d)", c.len())
	}
}

func TestAuthenticatorCachesSecrets(t *testing.T) {
	server, _ := secp256k1.GeneratePrivateKey()
	a := newAuthenticator(server, 0)
	priv, _ := secp256k1.GeneratePrivateKey()
	secret := wire.SharedSecret(priv, server.PubKey())
	token := wire.Token(secret)
	auth := &lsspb.Auth{ClientId: wire.PublicID(priv), Token: token[:]}
	for range 2 {
		got, err := a.authenticate(auth)
		if err != nil || !bytes.Equal(got, secret[:]) {
			t.Fatalf("authenticate = %x, %v; want the shared secret", got, err)
		}
	}
	if a.cache.len() != 1 {
		t.Errorf("cache holds %d entries, want 1", a.cache.len())
	}
	// A bad token with a cached client_id is still refused.
	if _, err := a.authenticate(&lsspb.Auth{ClientId: auth.ClientId, Token: secret[:]}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad token after caching: %v", err)
	}
}

func TestPanicBecomesInternal(t *testing.T) {
	m := newMetrics()
	unary, _ := interceptors(slog.New(slog.DiscardHandler), m)
	info := &grpc.UnaryServerInfo{FullMethod: "/lss.LightningStorage/Put"}
	// Run the chain as grpc.ChainUnaryInterceptor would.
	handler := grpc.UnaryHandler(func(context.Context, any) (any, error) { panic("boom") })
	for i := len(unary) - 1; i >= 0; i-- {
		next, ic := handler, unary[i]
		handler = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, next) }
	}
	_, err := handler(context.Background(), &lsspb.PutRequest{})
	if status.Code(err) != codes.Internal {
		t.Errorf("panicking handler: %v, want INTERNAL", err)
	}
}

func TestClientIDForLogs(t *testing.T) {
	if got := clientID(&lsspb.PutRequest{Auth: &lsspb.Auth{ClientId: []byte{0xab}}}); got != "ab" {
		t.Errorf("clientID = %q", got)
	}
	if got := clientID(&lsspb.PingRequest{}); got != "" {
		t.Errorf("clientID of a ping = %q", got)
	}
}

// A database that is down or an update that kept losing races is answered with a
// status the client retries on, saying so, without the database's address.
func TestStoreErrorRetryable(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cases := []struct {
		err  error
		code codes.Code
		says []string
	}{
		{fmt.Errorf("etcd: 30 attempts: %w", store.ErrContention), codes.Aborted, []string{"Put", "nothing was written", "retry"}},
		{fmt.Errorf("%w: postgres: dial tcp 10.1.2.3:5432: connection refused", store.ErrUnavailable), codes.Unavailable, []string{"unavailable", "retry"}},
	}
	for _, c := range cases {
		st := status.Convert(storeError(log, "Put", c.err))
		if st.Code() != c.code {
			t.Errorf("storeError(%v) = %v, want %v", c.err, st.Code(), c.code)
		}
		for _, s := range c.says {
			if !strings.Contains(st.Message(), s) {
				t.Errorf("storeError(%v) message %q does not say %q", c.err, st.Message(), s)
			}
		}
		if strings.Contains(st.Message(), "10.1.2.3") {
			t.Errorf("storeError(%v) message %q names the database's address", c.err, st.Message())
		}
	}
}
