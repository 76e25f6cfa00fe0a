package lssd

import (
	"context"

	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc/stats"
)

// inflight bounds the request bytes the server holds at once. It is a gRPC stats
// handler because that is the one hook gRPC calls in the call's own goroutine
// before it reads the request: interceptors run only once the request is read and
// decoded, which is too late, and a tap handle runs in the connection's reader,
// where waiting would stall every call on the connection.
//
// A call's size is unknown before it is read, so each reserves the largest
// request (MaxMessageSize) and gives it back when the call ends. While the budget
// is spent a new call waits, unread: HTTP/2 flow control (streamWindow) bounds
// what its client can send meanwhile. A call whose client gives up while waiting
// proceeds without a reservation and fails at once on its cancelled context.
type inflight struct {
	sem    *semaphore.Weighted
	weight int64
}

func newInflight(budget int64, perCall int) *inflight {
	return &inflight{sem: semaphore.NewWeighted(budget), weight: int64(perCall)}
}

type reservationKey struct{}

// reservation is set by Begin and read by End, in the call's goroutine.
type reservation struct{ held bool }

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
		r.held = f.sem.Acquire(ctx, f.weight) == nil
	case *stats.End:
		if r.held {
			f.sem.Release(f.weight)
			r.held = false
		}
	}
}

// TagConn and HandleConn are not used.
func (f *inflight) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn is not used.
func (f *inflight) HandleConn(context.Context, stats.ConnStats) {}
