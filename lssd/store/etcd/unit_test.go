package etcd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lssquorum/lss/lssd/store"
)

func TestRetryable(t *testing.T) {
	for err, want := range map[error]bool{
		errStale: true, fmt.Errorf("x: %w", errStale): true, rpctypes.ErrCompacted: true,
		rpctypes.ErrTooManyOps: false, context.DeadlineExceeded: false, nil: false,
	} {
		if got := retryable(err); got != want {
			t.Errorf("retryable(%v) = %v, want %v", err, got, want)
		}
	}
}

// etcd's answers that a later attempt may get past are ErrUnavailable (lssd
// answers UNAVAILABLE, retry); the ones that need the operator stay as they are
// (INTERNAL), and so does the caller's own deadline.
func TestFailureMarksUnavailable(t *testing.T) {
	b := &Backend{where: "127.0.0.1:2379", timeout: DefaultTimeout}
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		parent context.Context
		err    error
		want   bool
	}{
		{live, rpctypes.ErrTimeout, true},
		{live, rpctypes.ErrTimeoutDueToConnectionLost, true},
		{live, rpctypes.ErrNoLeader, true},
		{live, rpctypes.ErrLeaderChanged, true},
		{live, rpctypes.ErrTooManyRequests, true},
		{live, status.Error(codes.Unavailable, "connection refused"), true},
		{live, fmt.Errorf("get: %w", context.DeadlineExceeded), true}, // this package's own bound
		{ended, fmt.Errorf("get: %w", context.DeadlineExceeded), false},
		{ended, rpctypes.ErrTimeout, false},
		{live, rpctypes.ErrNoSpace, false},
		{live, rpctypes.ErrPermissionDenied, false},
		{live, store.ErrInvalid, false},
	} {
		err := b.failure(c.parent, fmt.Errorf("wrapped: %w", c.err))
		if got := errors.Is(err, store.ErrUnavailable); got != c.want {
			t.Errorf("failure(%v) = %v; unavailable %v, want %v", c.err, err, got, c.want)
		}
		if !c.want && !errors.Is(err, c.err) {
			t.Errorf("failure(%v) = %v, lost the error", c.err, err)
		}
	}
	if err := b.failure(live, nil); err != nil {
		t.Errorf("failure(nil) = %v", err)
	}
}
