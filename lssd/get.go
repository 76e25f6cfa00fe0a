package lssd

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Get returns the client's key-values whose keys start with key_prefix (matched
// byte for byte), in ascending key order, from one snapshot, with the base reply
// HMAC SH(nonce, kvs). The nonce may have any length. The base Get cannot page
// (its HMAC could not say a listing is cut): a listing over the max reply size is
// refused, and the read stops as soon as it passes that size.
func (s *Server) Get(ctx context.Context, req *lsspb.GetRequest) (*lsspb.GetReply, error) {
	secret, err := s.authorizeGet(req)
	if err != nil {
		return nil, err
	}
	if req.PageLimit != 0 || req.StartAfter != nil {
		return nil, status.Error(codes.InvalidArgument,
			"the base Get does not page: page_limit and start_after are for BoundGet")
	}
	if err := s.refuseBase(ctx, "Get", req.Auth.ClientId); err != nil {
		return nil, err
	}
	stored, err := s.getCapped(ctx, "Get", req)
	if err != nil {
		return nil, err
	}
	kvs := toBaseKVs(stored)
	return &lsspb.GetReply{Kvs: kvs, Hmac: wire.GetReplyHMAC(secret, req.Nonce, kvs)}, nil
}

// BoundGet is Get with a reply MAC that also covers the prefix, so that a
// man-in-the-middle cannot lengthen the prefix to hide keys, and with each value's
// txid and commit proof as stored (covered by the MAC too). With page_limit set it
// returns one page, under a MAC that also covers the page's start and limit,
// whether more keys follow, and the generation the page was read at.
func (s *Server) BoundGet(ctx context.Context, req *lsspb.GetRequest) (*lsspb.GetReply, error) {
	secret, err := s.authorizeGet(req)
	if err != nil {
		return nil, err
	}
	if err := checkPaging("BoundGet", req.PageLimit, req.StartAfter != nil); err != nil {
		return nil, err
	}
	if req.PageLimit == 0 {
		stored, err := s.getCapped(ctx, "BoundGet", req)
		if err != nil {
			return nil, err
		}
		kvs := toWireKVs(stored)
		return &lsspb.GetReply{Kvs: kvs, Hmac: wire.BoundGetReplyMAC(secret, req.KeyPrefix, req.Nonce, kvs)}, nil
	}
	stored, more, gen, err := s.store.GetPage(ctx, req.Auth.ClientId, req.KeyPrefix, req.StartAfter,
		s.limits.pageItems(req.PageLimit), s.limits.pageSize(), isServerKey)
	if err != nil {
		return nil, storeError(s.log, "BoundGet", err)
	}
	kvs, g := toWireKVs(stored), gen.Bytes()
	return &lsspb.GetReply{Kvs: kvs, More: more, Generation: g,
		Hmac: wire.BoundGetPageReplyMAC(secret, req.KeyPrefix, req.Nonce, req.StartAfter, req.PageLimit, kvs, more, g)}, nil
}

func (s *Server) authorizeGet(req *lsspb.GetRequest) ([]byte, error) {
	if req.Auth == nil {
		return nil, missingAuth
	}
	return s.authorize(req.Auth, nil, nil)
}

// getCapped reads a whole listing, refused with RESOURCE_EXHAUSTED once it passes
// the max reply size.
func (s *Server) getCapped(ctx context.Context, method string, req *lsspb.GetRequest) ([]store.KV, error) {
	kvs, err := s.store.GetCapped(ctx, req.Auth.ClientId, req.KeyPrefix, s.limits.MaxReplySize, isServerKey)
	var tooLarge *store.TooLargeError
	if errors.As(err, &tooLarge) {
		hint := "read narrower prefixes"
		if method == "BoundGet" {
			hint = "page it (page_limit) or read narrower prefixes"
		}
		return nil, status.Errorf(codes.ResourceExhausted,
			"%s of prefix %q passes the max reply size of %d bytes (%d keys read, %d bytes, before stopping); %s",
			method, req.KeyPrefix, s.limits.MaxReplySize, tooLarge.Entries, tooLarge.Bytes, hint)
	}
	if err != nil {
		return nil, storeError(s.log, method, err)
	}
	return kvs, nil
}

// checkPaging refuses a negative page limit, and a start without a page limit
// (a whole listing has no start).
func checkPaging(method string, limit int32, hasStart bool) error {
	switch {
	case limit < 0:
		return status.Errorf(codes.InvalidArgument, "%s page_limit is %d, must not be negative", method, limit)
	case limit == 0 && hasStart:
		return status.Errorf(codes.InvalidArgument, "%s has start_after without page_limit: set page_limit to page", method)
	}
	return nil
}
