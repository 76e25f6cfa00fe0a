package demo

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/quorum"
)

func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := Run(ctx, &out, Options{}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	// The audit's problem lines name each provider with its keys and versions.
	behind := quorum.KeyComparison{Key: "demo/balance", Version: 0, Others: 1}.String()
	for _, want := range []string{
		`(?m)^\s+- p2 is BEHIND .*` + regexp.QuoteMeta(behind),
		`(?m)^\s+- p2 ROLLED BACK.*"demo/balance"`,
		`(?m)^\s+- p1 is FAULTY: .*"demo/peer" v0`,
		`(?m)^\s+p0: \d+ file\(s\) in its data directory searched for the 6 values written: no plaintext\.$`,
		`=== 12\. Done ===`,
		`All providers agree\.`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if err := Run(ctx, &out, Options{}); err == nil {
		t.Fatalf("a cancelled demo succeeded:\n%s", out.String())
	}
}

// goodAudit is the audit the demo expects after the faults.
func goodAudit() *quorum.AuditReport {
	return &quorum.AuditReport{Verdict: quorum.Disagree, Providers: []quorum.ProviderAudit{
		{Name: "p0", Status: quorum.Ahead, Ahead: []quorum.KeyComparison{{Key: "demo/balance", Version: 1, Others: 0}, {Key: "demo/channel", Version: 1, Others: 0}, {Key: "demo/htlc", Version: 0, Others: -1}}},
		{Name: "p1", Status: quorum.Faulty, Tampered: []quorum.KeyComparison{{Key: "demo/peer", Version: 0}}},
		{Name: "p2", Status: quorum.RolledBack,
			Behind:     []quorum.KeyComparison{{Key: "demo/balance", Version: 0, Others: 1}, {Key: "demo/channel", Version: 0, Others: 1}},
			Missing:    []quorum.KeyComparison{{Key: "demo/htlc", Version: -1, Others: 0}},
			RolledBack: []quorum.KeyLoss{{Key: "demo/balance", Confirmed: 1, Held: 0}, {Key: "demo/channel", Confirmed: 1, Held: 0}, {Key: "demo/htlc", Confirmed: 0, Held: -1}}},
	}}
}

func TestCheckBeforeRepair(t *testing.T) {
	t.Parallel()
	if err := checkBeforeRepair(goodAudit(), "p2", "p1"); err != nil {
		t.Fatalf("the expected audit was refused: %v", err)
	}
	for name, spoil := range map[string]func(r *quorum.AuditReport){
		"verdict agree":           func(r *quorum.AuditReport) { r.Verdict = quorum.Agree },
		"rolled back up to date":  func(r *quorum.AuditReport) { r.Providers[2].Status = quorum.UpToDate },
		"one behind key missing":  func(r *quorum.AuditReport) { r.Providers[2].Missing = nil },
		"wrong behind version":    func(r *quorum.AuditReport) { r.Providers[2].Behind[0].Others = 2 },
		"not named rolled back":   func(r *quorum.AuditReport) { r.Providers[2].RolledBack = nil },
		"wrong confirmed version": func(r *quorum.AuditReport) { r.Providers[2].RolledBack[1].Confirmed = 3 },
		"tampered not faulty":     func(r *quorum.AuditReport) { r.Providers[1].Status = quorum.Behind },
		"wrong tampered key":      func(r *quorum.AuditReport) { r.Providers[1].Tampered[0].Key = "demo/htlc" },
		"third up to date":        func(r *quorum.AuditReport) { r.Providers[0].Status = quorum.UpToDate },
	} {
		r := goodAudit()
		spoil(r)
		if err := checkBeforeRepair(r, "p2", "p1"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckAfterRepair(t *testing.T) {
	t.Parallel()
	r := &quorum.AuditReport{Providers: []quorum.ProviderAudit{
		{Name: "p0", Status: quorum.UpToDate}, {Name: "p1", Status: quorum.Faulty}, {Name: "p2", Status: quorum.UpToDate},
	}}
	if err := checkAfterRepair(r, "p1"); err != nil {
		t.Fatal(err)
	}
	r.Providers[2].Status = quorum.Behind
	if err := checkAfterRepair(r, "p1"); err == nil || !strings.Contains(err.Error(), "p2") {
		t.Errorf("a provider still behind after repair: %v", err)
	}
}

func TestLatest(t *testing.T) {
	t.Parallel()
	got := latest(firstRound, secondRound)
	var keys []string
	for _, kv := range got {
		keys = append(keys, kv.Key)
	}
	if strings.Join(keys, ",") != "demo/balance,demo/channel,demo/htlc,demo/peer" || got[0].Version != 1 || got[3].Version != 0 {
		t.Errorf("latest = %v", got)
	}
}
