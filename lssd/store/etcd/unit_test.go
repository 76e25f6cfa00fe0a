package etcd

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func TestBounded(t *testing.T) {
	ctx, cancel := bounded(context.Background())
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > DefaultTimeout {
		t.Fatalf("a context without deadline got %v, %v; want one within %v", d, ok, DefaultTimeout)
	}
	want := time.Now().Add(time.Hour)
	parent, cancelParent := context.WithDeadline(context.Background(), want)
	defer cancelParent()
	ctx, cancel = bounded(parent)
	defer cancel()
	if d, _ := ctx.Deadline(); !d.Equal(want) {
		t.Fatalf("the caller's deadline was replaced: %v, want %v", d, want)
	}
}

func TestBackoffBounded(t *testing.T) {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if d := backoff(attempt); d <= 0 || d > 50*time.Millisecond {
			t.Fatalf("backoff(%d) = %v, want within (0, 50ms]", attempt, d)
		}
	}
}

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
