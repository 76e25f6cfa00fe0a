package lssd

import (
	"context"
	"errors"
	"log/slog"

	"github.com/lssquorum/lss/lssd/store"
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
	case errors.Is(err, store.ErrQuota):
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
	if code == codes.Internal {
		log.Error("storage failure", "method", method, "err", err)
		return status.Error(codes.Internal, "storage failure; see the server log")
	}
	return status.Error(code, err.Error())
}
