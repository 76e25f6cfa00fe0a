package quorum_test

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/quorum"
)

// After Close, nothing the client started is still running: not the write left
// in flight to a provider that never answers, not a background repair. It is
// not parallel, so that no other test's client is running meanwhile.
func TestCloseLeavesNothingRunning(t *testing.T) {
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) {
		cfg.AutoRepair = true
		cfg.Grace = 20 * time.Millisecond
	})
	if err := ps[0].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	put(t, c, kv("k", 0, "v"))
	if err := ps[0].Restart(ctx); err != nil {
		t.Fatal(err)
	}
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
