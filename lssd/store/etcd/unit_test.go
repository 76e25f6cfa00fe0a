package etcd

import (
	"context"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
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
