package lssd

import (
	"context"
	"errors"
	"fmt"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Status lists the client's pending and recently decided transactions, in txid
// order, under a MAC bound to the request's nonce: all of them (refused with
// RESOURCE_EXHAUSTED once they pass the max reply size), or with page_limit set
// one page, under a MAC that also covers the page's start and limit and whether
// more follow. A request may narrow the listing (docs/protocol.md, "Narrowed
// Status"): to the records of some txids (txids), or to the prepared ones,
// paged (pending_only); each has its own reply MAC.
func (s *Server) Status(ctx context.Context, req *lsspb.StatusRequest) (*lsspb.StatusReply, error) {
	if req.Auth == nil {
		return nil, missingAuth
	}
	secret, err := s.authorize(req.Auth, nil, nil)
	if err != nil {
		return nil, err
	}
	// The narrowing first: txids with paging fields is refused as such.
	if err := checkStatusNarrowing(req); err != nil {
		return nil, err
	}
	if err := checkPaging("Status", req.PageLimit, len(req.StartAfter) > 0); err != nil {
		return nil, err
	}
	// A client reading its records after a restart is one whose old records may
	// need pruning.
	s.onTxClient(req.Auth.ClientId)
	switch {
	case len(req.Txids) > 0:
		recs, err := s.store.TransactionsOf(ctx, req.Auth.ClientId, req.Txids, s.limits.MaxReplySize)
		if err != nil {
			return nil, s.statusError(err, "ask for fewer txids")
		}
		txs := toWireTransactions(recs)
		return &lsspb.StatusReply{Transactions: txs, Hmac: wire.StatusTxIDsReplyMAC(secret, req.Nonce, req.Txids, txs)}, nil
	case req.PageLimit == 0:
		recs, err := s.store.TransactionsCapped(ctx, req.Auth.ClientId, s.limits.MaxReplySize)
		if err != nil {
			return nil, s.statusError(err, "page it (page_limit)")
		}
		txs := toWireTransactions(recs)
		return &lsspb.StatusReply{Transactions: txs, Hmac: wire.StatusReplyMAC(secret, req.Nonce, txs)}, nil
	}
	page, mac := s.store.TransactionsPage, wire.StatusPageReplyMAC
	if req.PendingOnly {
		page, mac = s.store.PendingTransactionsPage, wire.StatusPendingPageReplyMAC
	}
	recs, more, err := page(ctx, req.Auth.ClientId, req.StartAfter, s.limits.pageItems(req.PageLimit), s.limits.pageSize())
	if err != nil {
		return nil, storeError(s.log, "Status", err)
	}
	txs := toWireTransactions(recs)
	return &lsspb.StatusReply{Transactions: txs, More: more,
		Hmac: mac(secret, req.Nonce, req.StartAfter, req.PageLimit, txs, more)}, nil
}

// statusError maps a store error of an unpaged Status read: past the max reply
// size it is RESOURCE_EXHAUSTED, saying how the client can ask for less (first
// remedy narrow).
func (s *Server) statusError(err error, narrow string) error {
	var tooLarge *store.TooLargeError
	if errors.As(err, &tooLarge) {
		return status.Errorf(codes.ResourceExhausted,
			"Status passes the max reply size of %d bytes (%d transaction records read, %d bytes, before stopping); "+
				"%s, settle prepared transactions (lss-quorum recover) and let decided ones expire",
			s.limits.MaxReplySize, tooLarge.Entries, tooLarge.Bytes, narrow)
	}
	return storeError(s.log, "Status", err)
}

// checkStatusNarrowing refuses a narrowed Status asked in a way the protocol
// does not allow: txids with paging fields or with pending_only, pending_only
// without page_limit, too many txids, a malformed or repeated txid. The paging
// fields of a request without txids are checked by checkPaging.
func checkStatusNarrowing(req *lsspb.StatusRequest) error {
	if len(req.Txids) == 0 {
		if req.PendingOnly && req.PageLimit == 0 {
			return status.Error(codes.InvalidArgument, "Status: pending_only needs page_limit (the prepared transactions are listed in pages)")
		}
		return nil
	}
	switch {
	case req.PendingOnly:
		return status.Error(codes.InvalidArgument, "Status has both txids and pending_only: ask one way at a time")
	case req.PageLimit != 0 || len(req.StartAfter) > 0:
		return status.Error(codes.InvalidArgument,
			"Status with txids is answered in one reply: it takes no paging (page_limit, start_after)")
	case len(req.Txids) > wire.MaxStatusTxIDs:
		return status.Errorf(codes.InvalidArgument, "Status asks for %d txids, more than the limit of %d", len(req.Txids), wire.MaxStatusTxIDs)
	}
	seen := make(map[string]int, len(req.Txids))
	for i, id := range req.Txids {
		if err := store.CheckTxID(id); err != nil {
			return status.Errorf(codes.InvalidArgument, "Status txids[%d] (%s): %v", i, shortHex(id), err)
		}
		if j, ok := seen[string(id)]; ok {
			return status.Errorf(codes.InvalidArgument, "Status txids[%d] repeats txids[%d] (%x): each txid once", i, j, id)
		}
		seen[string(id)] = i
	}
	return nil
}

// shortHex is id in hex, cut after 32 bytes: a malformed txid may be long.
func shortHex(id []byte) string {
	if len(id) > 32 {
		return fmt.Sprintf("%x…", id[:32])
	}
	return fmt.Sprintf("%x", id)
}
