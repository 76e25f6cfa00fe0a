package quorum_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// Plain mode, p1 down, and the network answering p2's Put for it: with a
// status code of its choosing (the Put never reaches p2), or with a reply of
// its making after passing the Put on (p2 stored it). Either way the put
// fails below W (at once, when p1 and p2 have failed), and since nothing in
// such an answer proves that the write did not land, its error counts p2 among
// the providers the write may have reached (docs/design.md, plain mode: a
// failed put's error names them), never as refused: only an authenticated
// conflict proves that.
func TestAdversaryPlainPutAnsweredByTheNetworkMayHaveReached(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		arrange func(m *mitm)
		stored  bool // p2 holds the write
	}{
		{"FAILED_PRECONDITION", func(m *mitm) { m.failWith(codes.FailedPrecondition, "Put") }, false},
		{"ALREADY_EXISTS", func(m *mitm) { m.failWith(codes.AlreadyExists, "Put") }, false},
		{"INVALID_ARGUMENT", func(m *mitm) { m.failWith(codes.InvalidArgument, "Put") }, false},
		{"a made-up reply to a Put passed on", func(m *mitm) {
			m.answer(func(method string, req proto.Message) proto.Message {
				if method != "Put" {
					return nil
				}
				if _, err := m.up.Put(context.Background(), req.(*lsspb.PutRequest)); err != nil {
					return nil // forward again: the test then sees p2's own answer
				}
				return &lsspb.PutReply{Success: true, Hmac: make([]byte, 32)}
			})
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			net := startNet(t, 3)
			ps := net.Providers()
			key := newKey(t)
			m := startMITM(t, ps[2].Addr())
			c := newClient(t, net, key, func(cfg *quorum.Config) {
				cfg.Mode = quorum.ModePlain
				cfg.DisableEncryption = true
				cfg.Providers[2].Addr = m.addr
			})
			put(t, c, kv("k", 0, "v0"))
			settle(t, c)

			stop(t, ps[1])
			tc.arrange(m)
			_, err := c.Put(ctx, []provider.KV{kv("k", 1, "v1")})
			var qe *quorum.QuorumError
			if !errors.As(err, &qe) || qe.Op != "put" || qe.Got > 1 {
				t.Fatalf("put: %v, want a quorum error: at most p0 acknowledged", err)
			}
			if !slices.Contains(qe.MayHaveReached, "p2") || !strings.Contains(err.Error(), "provider p2") {
				t.Errorf("put error %q (may have reached %v): p2 must be named, and counted as possibly reached", err, qe.MayHaveReached)
			}
			if errors.Is(err, provider.ErrConflict) {
				t.Errorf("put error %q is a conflict: nothing authenticated one", err)
			}
			m.heal()
			m.answer(nil)
			got := direct(t, ps[2], key, "k")
			if held := len(got) == 1 && got[0].Version == 1; held != tc.stored {
				t.Errorf("p2 holds %v, want the write held: %v", render(got), tc.stored)
			}
		})
	}
}
