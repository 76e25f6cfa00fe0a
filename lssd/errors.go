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
	case errors.Is(err, store.ErrContention):
		// gRPC's code for a concurrency failure such as a transaction abort; not
		// UNAVAILABLE, which would say the server is down (and makes clients drop
		// their connection to it).
		return codes.Aborted
	case errors.Is(err, store.ErrUnavailable):
		return codes.Unavailable
	}
	return codes.Internal
}

// storageFailure reports whether code answers a failure of the database rather
// than of the request: what lssd_storage_errors_total counts.
func storageFailure(code codes.Code) bool {
	return code == codes.Internal || code == codes.Unavailable || code == codes.Aborted
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
	case code == codes.Aborted:
		log.Warn("update gave up after conflicting with concurrent updates", "method", method, "err", err)
		return status.Errorf(codes.Aborted, "%s kept conflicting with concurrent writes of this client on the "+
			"server's database and gave up; nothing was written: retry the request", method)
	case code == codes.Unavailable:
		// The database's address and driver detail are the operator's, not the
		// client's.
		log.Warn("storage database unavailable", "method", method, "err", err)
		return status.Errorf(codes.Unavailable, "the server's database is unavailable (see the server log); "+
			"retry later with backoff: a write answered so may or may not have been applied")
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
	// gRPC's own status. Other RESOURCE_EXHAUSTED answers of etcd are not the
	// request's size: database space exceeded stays a failure, and too many
	// requests the etcd backend marks store.ErrUnavailable.
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) {
		s := gs.GRPCStatus()
		return s.Code() == codes.ResourceExhausted && strings.Contains(s.Message(), "received message larger than max")
	}
	return false
}
