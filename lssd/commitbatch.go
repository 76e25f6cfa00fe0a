package lssd

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// CommitBatch serves several Commits of one client in one call (see lss.proto).
// The call is refused as a whole, with INVALID_ARGUMENT and nothing applied, when
// checkCommitBatch refuses it; otherwise each item is served exactly as Commit
// serves it, and its outcome is Commit's reply or status, in request order. The
// items run concurrently so that their lazy store updates (the second phase of a
// commit) can share one storage batch on backends that group concurrent updates.
func (s *Server) CommitBatch(ctx context.Context, req *lsspb.CommitBatchRequest) (*lsspb.CommitBatchReply, error) {
	if err := checkCommitBatch(req.Commits); err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, batchAuthKey{}, s.authenticateBatch(req.Commits))

	outcomes := make([]*lsspb.CommitOutcome, len(req.Commits))
	var wg sync.WaitGroup
	for i, item := range req.Commits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i] = s.commitOutcome(ctx, item)
		}()
	}
	wg.Wait()
	return &lsspb.CommitBatchReply{Outcomes: outcomes}, nil
}

// commitOutcome runs Commit for one item and wraps its answer. A panic in the
// item, which the recovery interceptor cannot see in this goroutine, is that
// item's INTERNAL outcome rather than the end of the process.
func (s *Server) commitOutcome(ctx context.Context, item *lsspb.TxRequest) (out *lsspb.CommitOutcome) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("CommitBatch item panicked", "txid", fmt.Sprintf("%x", item.GetTxid()), "panic", p, "stack", string(debug.Stack()))
			out = &lsspb.CommitOutcome{Code: uint32(codes.Internal), Message: "internal error; see the server log"}
		}
	}()
	reply, err := s.Commit(ctx, item)
	if err != nil {
		st := status.Convert(err)
		return &lsspb.CommitOutcome{Code: uint32(st.Code()), Message: st.Message()}
	}
	return &lsspb.CommitOutcome{Reply: reply}
}

// batchAuthKey is the context key of a CommitBatch's batchAuth.
type batchAuthKey struct{}

// credential is a client_id and token as a request presents them.
type credential struct{ id, token string }

// batchAuth holds the credentials of a CommitBatch's items that failed to
// authenticate, with the error each gave. Authenticating a credential that does
// not pass costs an ECDH every time (only passing ones are cached), so without it
// a batch of 64 items with one wrong token would cost 64 ECDHs where the
// new-client limiter counted the batch for its distinct credentials. The failure
// of a credential does not change: the client_id is not a key, or the token is
// not the one its secret gives. Read-only once the items run.
type batchAuth map[credential]error

// authenticateBatch authenticates each distinct credential of items once, before
// the items run: a passing one is then cached for the items, and a failing one is
// returned with its error, which the items answer without another ECDH (see
// knownAuthFailure).
func (s *Server) authenticateBatch(items []*lsspb.TxRequest) batchAuth {
	failed := batchAuth{}
	tried := map[credential]bool{}
	for _, item := range items {
		c := credential{string(item.Auth.ClientId), string(item.Auth.Token)}
		if tried[c] {
			continue
		}
		tried[c] = true
		// A copy, because authenticate rewrites the client_id it is given.
		if _, err := s.auth.authenticate(&lsspb.Auth{ClientId: item.Auth.ClientId, Token: item.Auth.Token}); err != nil {
			failed[c] = err
		}
	}
	return failed
}

// knownAuthFailure is the error authenticating auth gave earlier in the same
// CommitBatch, or nil if it passed, was not tried, or ctx is not a batch's.
func knownAuthFailure(ctx context.Context, auth *lsspb.Auth) error {
	failed, _ := ctx.Value(batchAuthKey{}).(batchAuth)
	return failed[credential{string(auth.GetClientId()), string(auth.GetToken())}]
}

// batchCredentials is how many distinct tokens a CommitBatch's items present,
// each a credential that may cost an ECDH; 0 for any other request.
func batchCredentials(req any) int {
	b, ok := req.(*lsspb.CommitBatchRequest)
	if !ok {
		return 0
	}
	tokens := map[string]bool{}
	for _, item := range b.GetCommits() {
		tokens[string(item.GetAuth().GetToken())] = true
	}
	return len(tokens)
}

// checkCommitBatch is the whole-call check of a CommitBatch: 1 to
// wire.MaxCommitBatch items, each with an auth, all with the same client_id (as
// sent) and distinct txids. The per-item checks are Commit's own.
func checkCommitBatch(items []*lsspb.TxRequest) error {
	if len(items) == 0 {
		return status.Error(codes.InvalidArgument, "CommitBatch carries no commits")
	}
	if len(items) > wire.MaxCommitBatch {
		return status.Errorf(codes.InvalidArgument, "CommitBatch carries %d commits, at most %d", len(items), wire.MaxCommitBatch)
	}
	for i, item := range items {
		if item.GetAuth() == nil {
			return status.Errorf(codes.InvalidArgument, "CommitBatch item %d: auth missing", i)
		}
	}
	client := items[0].Auth.ClientId
	for i, item := range items[1:] {
		if !bytes.Equal(item.Auth.ClientId, client) {
			return status.Errorf(codes.InvalidArgument,
				"CommitBatch items 0 and %d have different client_ids; one call carries the commits of one client", i+1)
		}
	}
	seen := make(map[string]int, len(items))
	for i, item := range items {
		if j, ok := seen[string(item.Txid)]; ok {
			return status.Errorf(codes.InvalidArgument, "CommitBatch items %d and %d both commit txid %x", j, i, item.Txid)
		}
		seen[string(item.Txid)] = i
	}
	return nil
}
