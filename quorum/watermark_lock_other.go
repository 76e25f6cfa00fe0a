//go:build !unix

package quorum

import "context"

// lockFile is a no-op where flock is unavailable: saves of one process are
// still serialized, but two processes saving at once may lose a rise.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
