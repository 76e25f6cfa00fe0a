package lssd

import (
	"context"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Get returns the client's key-values whose keys start with key_prefix (matched
// byte for byte), in ascending key order, from one snapshot, with the base reply
// HMAC SH(nonce, kvs). The nonce may have any length.
func (s *Server) Get(ctx context.Context, req *lsspb.GetRequest) (*lsspb.GetReply, error) {
	secret, stored, err := s.get(ctx, "Get", req)
	if err != nil {
		return nil, err
	}
	if err := s.refuseBase(ctx, "Get", req.Auth.ClientId); err != nil {
		return nil, err
	}
	kvs := toBaseKVs(stored)
	return &lsspb.GetReply{Kvs: kvs, Hmac: wire.GetReplyHMAC(secret, req.Nonce, kvs)}, nil
}

// BoundGet is Get with a reply MAC that also covers the prefix, so that a
// man-in-the-middle cannot lengthen the prefix to hide keys, and with each value's
// txid and commit proof as stored (covered by the MAC too).
func (s *Server) BoundGet(ctx context.Context, req *lsspb.GetRequest) (*lsspb.GetReply, error) {
	secret, stored, err := s.get(ctx, "BoundGet", req)
	if err != nil {
		return nil, err
	}
	kvs := toWireKVs(stored)
	return &lsspb.GetReply{Kvs: kvs, Hmac: wire.BoundGetReplyMAC(secret, req.KeyPrefix, req.Nonce, kvs)}, nil
}

func (s *Server) get(ctx context.Context, method string, req *lsspb.GetRequest) ([]byte, []store.KV, error) {
	if req.Auth == nil {
		return nil, nil, missingAuth
	}
	secret, err := s.authorize(req.Auth, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	kvs, err := s.store.Get(ctx, req.Auth.ClientId, req.KeyPrefix)
	if err != nil {
		return nil, nil, storeError(s.log, method, err)
	}
	kvs = visible(kvs)
	if err := s.limits.checkReplyKVs(method, req.KeyPrefix, kvs); err != nil {
		return nil, nil, err
	}
	return secret, kvs, nil
}
