package lssd

import (
	"bytes"

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

// maxParticipantLen bounds one participant of a Prepare's quorum, as the store
// does (a server_id is 33 bytes).
const maxParticipantLen = 64

// checkQuorum refuses a Prepare's participants and write_quorum that do not
// record a quorum (docs/protocol.md: both empty, or 1 <= write_quorum <=
// len(participants) <= 255, participants in ascending byte order and distinct),
// naming the field and the participant at fault. store.CheckQuorum checks the
// same again; this check is here for the messages.
func checkQuorum(participants [][]byte, w int32) error {
	n := len(participants)
	if n == 0 && w == 0 {
		return nil
	}
	switch {
	case n == 0:
		return status.Errorf(codes.InvalidArgument,
			"Prepare has write_quorum %d and no participants: set both, or neither", w)
	case n > store.MaxParticipants:
		return status.Errorf(codes.InvalidArgument,
			"Prepare has %d participants, more than the limit of %d", n, store.MaxParticipants)
	case w < 1 || int(w) > n:
		return status.Errorf(codes.InvalidArgument,
			"Prepare has write_quorum %d of %d participants, want 1 <= write_quorum <= participants", w, n)
	}
	for i, p := range participants {
		if len(p) == 0 || len(p) > maxParticipantLen {
			return status.Errorf(codes.InvalidArgument,
				"Prepare participants[%d] is %d bytes, want 1 to %d (a server_id is 33)", i, len(p), maxParticipantLen)
		}
		if i == 0 {
			continue
		}
		switch c := bytes.Compare(participants[i-1], p); {
		case c == 0:
			return status.Errorf(codes.InvalidArgument,
				"Prepare participants[%d] repeats participants[%d] (%s): each participant once", i, i-1, shortHex(p))
		case c > 0:
			return status.Errorf(codes.InvalidArgument,
				"Prepare participants[%d] (%s) sorts before participants[%d]: participants must be in ascending byte order",
				i, shortHex(p), i-1)
		}
	}
	return nil
}
