package lssd

import (
	"context"
	"encoding/hex"
	"log/slog"
	"runtime/debug"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lssquorum/lss/proto/lsspb"
)

// interceptors returns the server's unary and stream interceptor chains, from
// go-grpc-middleware: metrics outermost (so a panic is counted as INTERNAL), then
// the call log, then panic recovery; the unary chain ends with this server's own
// additions to both, the caller's client_id in the log and the conflict count.
func interceptors(log *slog.Logger, m *metrics) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	rec := recovery.WithRecoveryHandlerContext(recoverPanic(log))
	logger := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		log.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	lopts := []logging.Option{logging.WithLevels(callLevel), logging.WithLogOnEvents(logging.FinishCall)}
	unary := []grpc.UnaryServerInterceptor{
		m.grpc.UnaryServerInterceptor(),
		logging.UnaryServerInterceptor(logger, lopts...),
		recovery.UnaryServerInterceptor(rec),
		annotate(m),
	}
	stream := []grpc.StreamServerInterceptor{
		m.grpc.StreamServerInterceptor(),
		logging.StreamServerInterceptor(logger, lopts...),
		recovery.StreamServerInterceptor(rec),
	}
	return unary, stream
}

// recoverPanic turns a handler's panic into INTERNAL, logged with its stack,
// instead of killing the process and every other client's calls with it.
func recoverPanic(log *slog.Logger) recovery.RecoveryHandlerFuncContext {
	return func(ctx context.Context, p any) error {
		method, _ := grpc.Method(ctx)
		log.Error("handler panicked", "method", method, "panic", p, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error; see the server log")
	}
}

// callLevel logs routine outcomes at debug level, refusals at info level so an
// operator sees misbehaving clients without turning on debug logs, and internal
// failures as errors.
func callLevel(code codes.Code) logging.Level {
	switch code {
	case codes.OK, codes.Canceled, codes.NotFound, codes.FailedPrecondition:
		return logging.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return logging.LevelError
	}
	return logging.LevelInfo
}

// annotate adds the caller's client_id to the call's log line and counts the
// conflicts in its reply.
func annotate(m *metrics) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if id := clientID(req); id != "" {
			logging.AddFields(ctx, logging.Fields{"client_id", id})
		}
		resp, err := handler(ctx, req)
		if err == nil {
			m.countConflicts(methodName(info.FullMethod), resp)
		}
		return resp, err
	}
}

// methodName is the last element of a full method name, "/lss.LightningStorage/Put"
// → "Put".
func methodName(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '/' {
			return full[i+1:]
		}
	}
	return full
}

// clientID is the hex client_id of an authenticated request, for the logs.
func clientID(req any) string {
	if r, ok := req.(interface{ GetAuth() *lsspb.Auth }); ok {
		return hex.EncodeToString(r.GetAuth().GetClientId())
	}
	return ""
}
