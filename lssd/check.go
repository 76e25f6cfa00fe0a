package lssd

import (
	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The checks every request shares, split in two so each handler runs them in the
// protocol's order (docs/protocol.md, Put):
//
//  1. auth missing → INVALID_ARGUMENT
//  2. keys not ascending and distinct → INVALID_ARGUMENT
//     (then this server's limits, and a txid's length: INVALID_ARGUMENT)
//  3. client_id not a public key → UNAUTHENTICATED
//  4. token mismatch → INVALID_ARGUMENT
//  5. request MAC mismatch → INVALID_ARGUMENT
//
// Nothing is read or written before all of them pass.

// checkShape runs checks 1 and 2 and the limits, and returns kvs as store values.
func (s *Server) checkShape(auth *lsspb.Auth, kvs []*lsspb.KeyValue) ([]store.KV, error) {
	if auth == nil {
		return nil, missingAuth
	}
	skvs := toStoreKVs(kvs)
	if err := store.CheckKeys(skvs); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := s.limits.checkKVs(kvs); err != nil {
		return nil, err
	}
	return skvs, nil
}

// checkTxID refuses a txid of the wrong length.
func checkTxID(txid []byte) error {
	if err := store.CheckTxID(txid); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return nil
}

// authorize runs checks 3 to 5 on a request whose auth is present: it returns the
// client's shared secret once the client is authenticated and gotMAC equals
// wantMAC(secret). A nil wantMAC skips check 5 (requests without a MAC: Get,
// BoundGet, Status).
func (s *Server) authorize(auth *lsspb.Auth, gotMAC []byte, wantMAC func(secret []byte) []byte) ([]byte, error) {
	secret, err := s.auth.authenticate(auth)
	if err != nil {
		return nil, err
	}
	if wantMAC != nil && !wire.Equal(gotMAC, wantMAC(secret)) {
		return nil, status.Error(codes.InvalidArgument, "request hmac does not verify")
	}
	return secret, nil
}
