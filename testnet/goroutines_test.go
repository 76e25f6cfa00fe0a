package testnet

import (
	"runtime"
	"testing"
	"time"
)

func countGoroutines() int { return runtime.NumGoroutine() }

// waitGoroutines waits, for a bounded time, until no more goroutines run than
// before, and fails with every goroutine's stack if that does not happen. Tests
// that call it must not run in parallel with others.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still running, %d before:\n%s", n, before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
