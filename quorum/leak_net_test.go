package quorum_test

import (
	"bytes"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lssquorum/lss/quorum"
	"google.golang.org/grpc/codes"
)

// After Close, nothing the client started is still running: not the write left
// in flight to a provider that never answers, not a background repair. It is
// not parallel, so that no other test's client is running meanwhile.
func TestCloseLeavesNothingRunning(t *testing.T) {
	net := startNet(t, 3)
	ps := net.Providers()
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) {
		cfg.AutoRepair = true
		cfg.Grace = 20 * time.Millisecond
	})
	stop(t, ps[0])
	put(t, c, kv("k", 0, "v"))
	restart(t, ps[0])
	ps[2].Blackhole()
	defer ps[2].Heal()
	put(t, c, kv("j", 0, "w")) // its write to p2 stays in flight
	get(t, c, "")              // p0 is behind: a repair starts in the background

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if left := quorumGoroutines(); len(left) > 0 {
		t.Errorf("%d goroutines of the quorum package still running after Close:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

// quorumCode matches a stack frame in a non-test file of the quorum package.
var quorumCode = regexp.MustCompile(`/quorum/([a-z_]+)\.go:\d+`)

// quorumGoroutines returns the stacks of goroutines running code of the quorum
// package (tests waiting to run do not count), other than the caller's.
func quorumGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the calling goroutine comes first
			continue
		}
		for _, m := range quorumCode.FindAllStringSubmatch(g, -1) {
			if !strings.HasSuffix(m[1], "_test") {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// Close with a commit still unsettled (the provider refuses it) gives the
// settler one last bounded attempt, logs the transaction as left for recovery,
// and leaves nothing running. Not parallel, like the test above.
func TestCloseHandsOffTheSettler(t *testing.T) {
	net := startNet(t, 3)
	key := newKey(t)
	var logs syncBuffer
	c, cut := atomicThrough(t, net, key, 2, func(cfg *quorum.Config) {
		cfg.SettleDeadline = time.Hour
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	cut.failWith(codes.Unavailable, "Commit")
	put(t, c, kv("k", 0, "v"))
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*callTimeout {
		t.Errorf("Close took %v, want at most two call timeouts", took)
	}
	if !strings.Contains(logs.String(), "left for recovery") {
		t.Errorf("the unsettled transaction was not logged as left for recovery:\n%s", logs.String())
	}
	if left := quorumGoroutines(); len(left) > 0 {
		t.Errorf("%d goroutines of the quorum package still running after Close:\n%s", len(left), strings.Join(left, "\n\n"))
	}
	// The next process settles it.
	cut.heal()
	c2, report, err := quorum.Open(testCtx(t), quorum.Config{Providers: pinned(net), ClientKey: key, Mode: quorum.ModeAtomic,
		Timeout: callTimeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if report == nil || len(report.Transactions)+len(report.Young) != 1 {
		t.Fatalf("open after the hand-off: %+v, want the transaction found", report)
	}
	eventually(t, "the new process settles the commit on p2", func() bool {
		return preparedOn(t, net.Providers()[2], key) == 0
	})
}

// syncBuffer is a bytes.Buffer safe for a logger writing from goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
