package lssd

import (
	"context"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Put writes the request's key-values atomically and durably if every version is
// the stored version + 1 (0 for a new key) and no key is reserved by a prepared
// transaction; otherwise it writes nothing and reports the conflicts in request
// order. success is only sent once the write is on stable storage.
func (s *Server) Put(ctx context.Context, req *lsspb.PutRequest) (*lsspb.PutReply, error) {
	kvs, err := s.checkShape(req.Auth, req.Kvs)
	if err != nil {
		return nil, err
	}
	secret, err := s.authorize(req.Auth, req.Hmac, func(secret []byte) []byte {
		return wire.PutRequestHMAC(secret, req.Kvs)
	})
	if err != nil {
		return nil, err
	}
	if err := s.refuseBase(ctx, "Put", req.Auth.ClientId); err != nil {
		return nil, err
	}
	cs, err := s.store.Put(ctx, req.Auth.ClientId, kvs)
	if err != nil {
		return nil, storeError(s.log, "Put", err)
	}
	if len(cs) > 0 {
		conflicts, reservations := putConflicts(cs)
		return &lsspb.PutReply{Success: false, Conflicts: conflicts, Reservations: reservations}, nil
	}
	return &lsspb.PutReply{Success: true, Hmac: wire.PutReplyHMAC(secret, req.Kvs)}, nil
}
