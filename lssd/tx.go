package lssd

import (
	"context"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The two-phase-commit RPCs. A txid's record only moves forward (docs/design.md, the
// table of txid states); refusals the table calls for are FAILED_PRECONDITION, and a
// Commit of a txid never prepared here is NOT_FOUND.

// Prepare validates the key-values exactly as Put does and, if they pass, durably
// records them as pending under txid and reserves their keys. A conflict leaves no
// record and is reported as TX_UNKNOWN with the conflicts; an aborted (fenced) txid
// is reported as TX_ABORTED.
func (s *Server) Prepare(ctx context.Context, req *lsspb.PrepareRequest) (*lsspb.TxReply, error) {
	kvs, err := s.checkShape(req.Auth, req.Kvs)
	if err != nil {
		return nil, err
	}
	if err := checkTxID(req.Txid); err != nil {
		return nil, err
	}
	if err := checkQuorum(req.Participants, req.WriteQuorum); err != nil {
		return nil, err
	}
	q := store.Quorum{Participants: req.Participants, W: int(req.WriteQuorum)}
	if err := store.CheckQuorum(q); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := store.CheckSeal(req.Seal); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	secret, err := s.authorize(req.Auth, req.Hmac, func(secret []byte) []byte {
		return wire.PrepareRequestMAC(secret, req.Txid, req.Kvs, req.Participants, req.WriteQuorum, req.Seal)
	})
	if err != nil {
		return nil, err
	}
	s.onTxClient(req.Auth.ClientId)
	state, cs, err := s.store.PrepareQuorum(ctx, req.Auth.ClientId, req.Txid, q, req.Seal, kvs)
	if err != nil {
		return nil, storeError(s.log, "Prepare", err)
	}
	return txReply(secret, wire.DomainPrepareReply, req.Txid, state, toWireConflicts(cs)), nil
}

// Commit applies a prepared transaction, storing each write with the txid and its
// commit proof (one per prepared write, in key order; another count is
// INVALID_ARGUMENT); committing a committed txid succeeds again.
func (s *Server) Commit(ctx context.Context, req *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return s.serveTxRequest(ctx, "Commit", wire.CommitDomains, req, func(ctx context.Context, client []byte) (store.TxState, error) {
		return store.TxCommitted, s.store.Commit(ctx, client, req.Txid, req.Proofs)
	})
}

// Fence records an unknown txid as aborted, so a late Prepare of it is refused, and
// otherwise reports the txid's state without changing it.
func (s *Server) Fence(ctx context.Context, req *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return s.serveTxRequest(ctx, "Fence", wire.FenceDomains, req, func(ctx context.Context, client []byte) (store.TxState, error) {
		return s.store.Fence(ctx, client, req.Txid)
	})
}

// Abort drops a prepared transaction or fences an unknown one; aborting a committed
// txid is refused.
func (s *Server) Abort(ctx context.Context, req *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return s.serveTxRequest(ctx, "Abort", wire.AbortDomains, req, func(ctx context.Context, client []byte) (store.TxState, error) {
		return store.TxAborted, s.store.Abort(ctx, client, req.Txid)
	})
}

// serveTxRequest serves a Commit, Fence or Abort: it runs the checks of a
// TxRequest under domains (request, reply), then op, and MACs the reply. The
// decision itself is the client's; the server only applies it.
func (s *Server) serveTxRequest(ctx context.Context, method string, domains [2]wire.Domain, req *lsspb.TxRequest,
	op func(context.Context, []byte) (store.TxState, error)) (*lsspb.TxReply, error) {
	if req.Auth == nil {
		return nil, missingAuth
	}
	if err := checkTxID(req.Txid); err != nil {
		return nil, err
	}
	if len(req.Proofs) > 0 && domains != wire.CommitDomains {
		return nil, status.Errorf(codes.InvalidArgument, "%s carries %d commit proofs; only Commit takes proofs", method, len(req.Proofs))
	}
	secret, err := s.authorize(req.Auth, req.Hmac, func(secret []byte) []byte {
		return wire.TxRequestMAC(secret, domains[0], req.Txid, req.Proofs)
	})
	if err != nil {
		return nil, err
	}
	s.onTxClient(req.Auth.ClientId)
	state, err := op(ctx, req.Auth.ClientId)
	if err != nil {
		return nil, storeError(s.log, method, err)
	}
	return txReply(secret, domains[1], req.Txid, state, nil), nil
}

func txReply(secret []byte, d wire.Domain, txid []byte, state store.TxState, conflicts []*lsspb.Conflict) *lsspb.TxReply {
	st := lsspb.TxState(state)
	return &lsspb.TxReply{
		State:     st,
		Conflicts: conflicts,
		Hmac:      wire.TxReplyMAC(secret, d, txid, st, conflicts),
	}
}
