package quorum_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/quorum"
)

// A Get that can no longer reach its read quorum fails after the grace, without
// waiting out the call timeout of a provider that never answers: with two of
// three providers down (refusing at once) and the third blackholed, no reply
// of the third can make two valid ones. Audit still waits for every provider.
func TestGetFailsOnceTheReadQuorumIsLost(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	ps := net.Providers()
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) { cfg.Grace = 50 * time.Millisecond })
	put(t, c, kv("k", 0, "v"))
	settle(t, c)

	stop(t, ps[0], ps[1])
	ps[2].Blackhole()
	defer ps[2].Heal()
	start := time.Now()
	_, err := c.Get(testCtx(t), "")
	took := time.Since(start)
	var qe *quorum.QuorumError
	if !errors.As(err, &qe) || qe.Op != "get" || qe.Got != 0 {
		t.Fatalf("get with two providers down and one blackholed: %v, want a quorum error", err)
	}
	if took > callTimeout/2 {
		t.Errorf("get took %v: it waited for the blackholed provider after the read quorum was lost", took)
	}
	for _, want := range []string{"provider p0", "provider p1", "provider p2", "read quorum could no longer be reached"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("get error %q does not say %q", err, want)
		}
	}

	// Audit asks for every provider's answer: it waits for the blackholed one.
	start = time.Now()
	report, err := c.Audit(testCtx(t), "", quorum.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < callTimeout {
		t.Errorf("audit took %v, less than the call timeout: it did not wait for the blackholed provider", took)
	}
	if len(report.Providers) != 3 {
		t.Errorf("audit reports %d providers, want 3", len(report.Providers))
	}
}
