package lssd

import (
	"context"

	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
	"google.golang.org/protobuf/proto"
)

// inflight bounds the request bytes the server holds at once. It is a gRPC stats
// handler because that is the one hook gRPC calls in the call's own goroutine
// before it reads the request: interceptors run only once the request is read and
// decoded, which is too late, and a tap handle runs in the connection's reader,
// where waiting would stall every call on the connection.
//
// A call's size is unknown before it is read, so each reserves the largest
// request (MaxMessageSize) while its request is read and decoded; once decoded,
// the interceptor shrinks the reservation to twice the request's size (the
// decoded message, and what the handler builds from it) if that is less, and
// the rest is given back when the call ends. So only the reading of requests is limited to
// MaxInflightBytes / MaxMessageSize calls at a time; small calls being handled
// hold little. While the budget is spent a new call waits, unread: HTTP/2 flow
// control (streamWindow) bounds what its client can send meanwhile. A call whose
// client gives up while waiting proceeds without a reservation and fails at once
// on its cancelled context.
type inflight struct {
	sem    *semaphore.Weighted
	weight int64
}

func newInflight(budget int64, perCall int) *inflight {
	return &inflight{sem: semaphore.NewWeighted(budget), weight: int64(perCall)}
}

type reservationKey struct{}

// reservation is set by Begin, shrunk by the interceptor and released by End, all
// in the call's goroutine.
type reservation struct{ held int64 }

// TagRPC gives the call a place to note its reservation.
func (f *inflight) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, reservationKey{}, &reservation{})
}

// HandleRPC reserves at Begin (waiting for the budget) and releases at End.
func (f *inflight) HandleRPC(ctx context.Context, s stats.RPCStats) {
	r, ok := ctx.Value(reservationKey{}).(*reservation)
	if !ok {
		return
	}
	switch s.(type) {
	case *stats.Begin:
		if f.sem.Acquire(ctx, f.weight) == nil {
			r.held = f.weight
		}
	case *stats.End:
		if r.held > 0 {
			f.sem.Release(r.held)
			r.held = 0
		}
	}
}

// interceptor shrinks a decoded call's reservation to what it holds.
func (f *inflight) interceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if r, ok := ctx.Value(reservationKey{}).(*reservation); ok && r.held > 0 {
			size := int64(1)
			if m, ok := req.(proto.Message); ok {
				size = max(1, 2*int64(proto.Size(m)))
			}
			if size < r.held {
				f.sem.Release(r.held - size)
				r.held = size
			}
		}
		return handler(ctx, req)
	}
}

// TagConn and HandleConn are not used.
func (f *inflight) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn is not used.
func (f *inflight) HandleConn(context.Context, stats.ConnStats) {}
