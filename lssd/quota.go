package lssd

import "github.com/lssquorum/lss/lssd/store"

// Default per-client quotas of cmd/lssd: generous for any honest client, but they
// keep one identity from filling the disk or holding keys reserved without end.
const (
	DefaultMaxKeysPerClient    = 1_000_000
	DefaultMaxBytesPerClient   = 1 << 30
	DefaultMaxPendingPerClient = 1_000
)

// DefaultQuota returns the default per-client quotas.
func DefaultQuota() store.Quota {
	return store.Quota{
		MaxKeys:    DefaultMaxKeysPerClient,
		MaxBytes:   DefaultMaxBytesPerClient,
		MaxPending: DefaultMaxPendingPerClient,
	}
}
