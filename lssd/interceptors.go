package lssd

import (
	"context"
	"encoding/hex"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// recoverPanics turns a handler's panic into INTERNAL instead of killing the
// process and every other client's calls with it.
func recoverPanics(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("handler panicked", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				resp, err = nil, status.Error(codes.Internal, "internal error; see the server log")
			}
		}()
		return handler(ctx, req)
	}
}

// logCalls logs every call at debug level, and refusals at info level so an
// operator sees misbehaving clients without turning on debug logs.
func logCalls(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		code := status.Code(err)
		level := slog.LevelDebug
		switch code {
		case codes.OK, codes.Canceled, codes.NotFound, codes.FailedPrecondition:
		case codes.Internal:
			level = slog.LevelError
		default:
			level = slog.LevelInfo
		}
		if log.Enabled(ctx, level) {
			log.Log(ctx, level, "call", "method", info.FullMethod, "client_id", clientID(req), "code", code.String(),
				"duration", time.Since(start), "err", errMessage(err))
		}
		return resp, err
	}
}

func errMessage(err error) string {
	if err == nil {
		return ""
	}
	return status.Convert(err).Message()
}

// clientID is the hex client_id of an authenticated request, for the logs.
func clientID(req any) string {
	if r, ok := req.(interface{ GetAuth() *lsspb.Auth }); ok {
		return hex.EncodeToString(r.GetAuth().GetClientId())
	}
	return ""
}
