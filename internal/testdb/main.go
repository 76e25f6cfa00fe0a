package testdb

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
)

// stoppers are the databases this test binary started, stopped by Main.
var (
	stopMu   sync.Mutex
	stoppers []func()
)

func onExit(stop func()) {
	stopMu.Lock()
	defer stopMu.Unlock()
	stoppers = append(stoppers, stop)
}

// Main runs the package's tests, stops every database they started, and exits with
// the tests' status. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs the package's tests, stops every database they started, and returns the
// tests' status, for a TestMain with more to do.
func Run(m *testing.M) int {
	code := m.Run()
	stopMu.Lock()
	for i := len(stoppers) - 1; i >= 0; i-- {
		stoppers[i]()
	}
	stoppers = nil
	stopMu.Unlock()
	return code
}

// InCI reports whether the tests run in continuous integration, where a missing
// database is a failure rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// unavailable skips t, or fails it under CI, because a database could not be had.
func unavailable(t testing.TB, what string, err error, install string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required under CI=true but unavailable: %v (install it: %s)", what, err, install)
		return
	}
	t.Skipf("%s unavailable, skipping: %v (to run these tests: %s)", what, err, install)
}

// freePort returns a loopback TCP port that was free a moment ago. Another process
// may take it before the caller binds it; callers retry startup a few times.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
