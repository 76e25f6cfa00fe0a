package lssd

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/lssquorum/lss/lssd/store"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// statusCode maps an error from the store to the gRPC code the client sees. It is a
// pure function so the table is tested on its own.
func statusCode(err error) codes.Code {
	switch {
	case errors.Is(err, store.ErrInvalid):
		return codes.InvalidArgument
	case errors.Is(err, store.ErrTxUnknown):
		return codes.NotFound
	case errors.Is(err, store.ErrCommitAborted), errors.Is(err, store.ErrTxCommitted), errors.Is(err, store.ErrTxMismatch):
		return codes.FailedPrecondition
	case errors.Is(err, store.ErrQuota), overBackendLimit(err):
		return codes.ResourceExhausted
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	}
	return codes.Internal
}

// storeError turns a store error into a status. Expected refusals carry the store's
// message, which names the key or txid; an unexpected failure is logged in full and
// reported without internal detail.
func storeError(log *slog.Logger, method string, err error) error {
	code := statusCode(err)
	switch {
	case code == codes.Internal:
		log.Error("storage failure", "method", method, "err", err)
		return status.Error(codes.Internal, "storage failure; see the server log")
	case overBackendLimit(err):
		// The request is within this server's limits but its one update is not
		// within the database's: the operator's matter, and the client's remedy
		// is a smaller request.
		log.Warn("request over the storage backend's transaction limits", "method", method, "err", err)
		return status.Errorf(codes.ResourceExhausted,
			"%s is too large for one transaction of the server's storage backend (etcd's --max-txn-ops or "+
				"--max-request-bytes); nothing was written: send fewer or smaller key-values per request, "+
				"or ask the operator to raise those limits", method)
	}
	return status.Error(code, err.Error())
}

// overBackendLimit reports whether err is the storage backend refusing one
// update as too large for it: etcd's limits on the operations and bytes of one
// transaction (--max-txn-ops, default 128; --max-request-bytes, default 1.5
// MiB), which a request within this server's limits can pass (a Put of 200 keys).
// It is not a storage failure: the request would succeed in smaller parts.
func overBackendLimit(err error) bool {
	if errors.Is(err, rpctypes.ErrTooManyOps) || errors.Is(err, rpctypes.ErrRequestTooLarge) {
		return true
	}
	// A request over --max-request-bytes by more than the 512 KiB etcd allows for
	// gRPC framing is refused by etcd's gRPC server before etcd sees it, with
	// gRPC's own status. Other RESOURCE_EXHAUSTED answers of etcd (database space
	// exceeded, too many requests) are not the request's size and stay failures.
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) {
		s := gs.GRPCStatus()
		return s.Code() == codes.ResourceExhausted && strings.Contains(s.Message(), "received message larger than max")
	}
	return false
}
