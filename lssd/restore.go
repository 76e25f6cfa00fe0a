package lssd

import (
	"context"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Restore writes each key-value whose version is greater than the stored one (or
// whose key is absent) and keeps the rest: it never lowers a version, and it leaves
// keys reserved by a prepared transaction alone. Key-values sharing a txid are one
// transaction's writes, applied all or nothing, and settle that transaction if it
// is prepared here (store.Store.Restore). The reply lists the keys applied and,
// for each key kept, what is stored, under a MAC bound to the request's.
func (s *Server) Restore(ctx context.Context, req *lsspb.RestoreRequest) (*lsspb.RestoreReply, error) {
	kvs, err := s.checkShape(req.Auth, req.Kvs)
	if err != nil {
		return nil, err
	}
	secret, err := s.authorize(req.Auth, req.Hmac, func(secret []byte) []byte {
		return wire.RestoreRequestMAC(secret, req.Kvs)
	})
	if err != nil {
		return nil, err
	}
	applied, kept, err := s.store.Restore(ctx, req.Auth.ClientId, kvs)
	if err != nil {
		return nil, storeError(s.log, "Restore", err)
	}
	keptKVs := make([]*lsspb.KeyValue, len(kept))
	reservedBy := make([][]byte, len(kept))
	for i, c := range kept {
		keptKVs[i], reservedBy[i] = extConflictKV(c), c.ReservedBy
	}
	return &lsspb.RestoreReply{
		Applied:    applied,
		Kept:       keptKVs,
		ReservedBy: reservedBy,
		Hmac:       wire.RestoreReplyMAC(secret, req.Hmac, applied, keptKVs, reservedBy),
	}, nil
}
