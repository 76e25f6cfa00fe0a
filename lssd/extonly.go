package lssd

import (
	"context"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// extOnlyKey marks a namespace as extension-only. It is stored as a key of the
// namespace, which every backend already keeps, but no client can name it: keys
// and prefixes are protobuf strings, which must be UTF-8, and 0xff never occurs
// in UTF-8. Reads leave it out (see visible).
const extOnlyKey = "\xffextension-only"

// maxExtOnlyNonce bounds the nonce of a SetExtensionOnly.
const maxExtOnlyNonce = 64

// SetExtensionOnly switches the client's namespace to extension-only, durably and
// for good: base Get and Put are refused for it from then on. See lss.proto.
func (s *Server) SetExtensionOnly(ctx context.Context, req *lsspb.ExtensionOnlyRequest) (*lsspb.ExtensionOnlyReply, error) {
	if req.Auth == nil {
		return nil, missingAuth
	}
	if len(req.Nonce) > maxExtOnlyNonce {
		return nil, status.Errorf(codes.InvalidArgument, "nonce of %d bytes, at most %d", len(req.Nonce), maxExtOnlyNonce)
	}
	secret, err := s.authorize(req.Auth, req.Hmac, func(secret []byte) []byte {
		return wire.ExtensionOnlyRequestMAC(secret, req.Nonce)
	})
	if err != nil {
		return nil, err
	}
	// Restore writes the marker once and keeps it afterwards (its version never
	// goes up), so setting it again is a no-op that succeeds.
	if _, _, err := s.store.Restore(ctx, req.Auth.ClientId, []store.KV{{Key: extOnlyKey, Version: 0, Value: []byte{1}}}); err != nil {
		return nil, storeError(s.log, "SetExtensionOnly", err)
	}
	s.extOnly.put(string(req.Auth.ClientId), struct{}{})
	return &lsspb.ExtensionOnlyReply{Hmac: wire.ExtensionOnlyReplyMAC(secret, req.Hmac)}, nil
}

// refuseBase refuses a base Get or Put (method) of an authenticated client whose
// namespace is extension-only. The mode never goes back, so a client found in it
// is remembered and costs no read again.
func (s *Server) refuseBase(ctx context.Context, method string, client []byte) error {
	if _, ok := s.extOnly.get(string(client)); !ok {
		kvs, err := s.store.Get(ctx, client, extOnlyKey)
		if err != nil {
			return storeError(s.log, method, err)
		}
		if len(kvs) == 0 {
			return nil
		}
		s.extOnly.put(string(client), struct{}{})
	}
	return status.Errorf(codes.FailedPrecondition,
		"client_id is extension-only: base %s is refused (use BoundGet, Prepare and Commit, or Restore)", method)
}

// isServerKey reports whether key is one the server keeps for itself in a
// client's namespace (the mode key), which reads leave out.
func isServerKey(key string) bool { return key == extOnlyKey }
