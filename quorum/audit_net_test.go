package quorum_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lssquorum/lss/quorum"
)

// An audit names a rolled-back provider and a tampering one, says what is wrong
// with each in plain words, and with Repair fixes the rollback (the tampered
// value stays: forward-only repair does not overwrite a version, and the
// provider stays faulty until its operator restores it).
func TestAuditNamesRollbackAndTamperAndRepairs(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("chan/1", 0, "open"), kv("chan/2", 0, "x"))
	settle(t, c)
	snap := snapshot(t, ps[0])
	put(t, c, kv("chan/1", 1, "update"))
	settle(t, c)
	rollback(t, ps[0], snap)
	err := ps[2].Tamper(ctx, key.PubKey().SerializeCompressed(), "chan/2", func(v []byte) []byte { return append([]byte("forged"), v[6:]...) })
	if err != nil {
		t.Fatal(err)
	}

	rep, err := c.Audit(ctx, "chan/", quorum.AuditOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != quorum.Disagree || rep.Keys != 2 || rep.Valid != 2 {
		t.Errorf("verdict %s, %d keys, %d valid; want disagree, 2, 2", rep.Verdict, rep.Keys, rep.Valid)
	}
	p0, p1, p2 := rep.Providers[0], rep.Providers[1], rep.Providers[2]
	if p0.Status != quorum.RolledBack || len(p0.Behind) != 1 || p0.Behind[0] != (quorum.KeyComparison{Key: "chan/1", Version: 0, Others: 1}) {
		t.Errorf("p0 = %+v, want rolled back, behind on chan/1 v0 of v1", p0)
	}
	// With p0 behind and p2's data ignored, p1 alone holds chan/1 v1.
	if p1.Status != quorum.Ahead || !p1.Reachable || !p1.Verified || p1.Keys != 2 || p1.ServerIDCheck != quorum.ServerIDPinned {
		t.Errorf("p1 = %+v, want ahead, verified, pinned", p1)
	}
	if p2.Status != quorum.Faulty || p2.Verified || !p2.Reachable || len(p2.Tampered) != 1 || p2.Tampered[0].Key != "chan/2" {
		t.Errorf("p2 = %+v, want faulty with chan/2 tampered", p2)
	}
	table := rep.Table()
	t.Log("\n" + table)
	for _, want := range []string{
		"verdict: DISAGREE",
		`p0 ROLLED BACK: it lost versions it had confirmed to this client (restored from old data or lost writes): "chan/1" confirmed at v1, now v0`,
		`p0 is BEHIND on 1 key(s) (lagging or rolled back): "chan/1": holds v0, others v1`,
		`p2 is FAULTY: stored values fail their value HMAC (tampered or forged): "chan/2" v0`,
		"Repair:",
		`p0: restored 1 key(s): "chan/1" v0→v1`,
		"After repair:",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table does not say %q:\n%s", want, table)
		}
	}

	after := rep.After
	if after == nil {
		t.Fatal("no audit after repair")
	}
	if after.Providers[0].Status != quorum.UpToDate || after.Providers[2].Status != quorum.Faulty {
		t.Errorf("after repair: p0 %v, p2 %v; want up to date and still faulty", after.Providers[0].Status, after.Providers[2].Status)
	}
	if got := direct(t, ps[0], key, "chan/1"); len(got) != 1 || got[0].Version != 1 || string(got[0].Value) != "update" {
		t.Errorf("p0 holds %v after repair", render(got))
	}

	// The report is JSON for machines, with readable statuses.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"verdict":"disagree"`, `"status":"rolled back"`, `"status":"faulty"`, `"tampered":[{"key":"chan/2"`, `"after":{`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON does not contain %s: %s", want, b)
		}
	}
	var back quorum.AuditReport
	if err := json.Unmarshal(b, &back); err != nil || back.Providers[0].Status != quorum.RolledBack {
		t.Errorf("JSON does not read back: %v, %+v", err, back.Providers)
	}
}

// An audit with every provider in agreement says so, and one with a provider
// down says which.
func TestAuditAgreementAndUnreachable(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	c := newClient(t, net, newKey(t))
	put(t, c, kv("k", 0, "v"))
	settle(t, c)

	rep, err := c.Audit(ctx, "", quorum.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != quorum.Agree || len(rep.Problems) != 0 || !strings.Contains(rep.Table(), "All providers agree.") {
		t.Errorf("audit of a healthy network:\n%s", rep.Table())
	}

	stop(t, net.Providers()[1])
	rep, err = c.Audit(ctx, "", quorum.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1 := rep.Providers[1]
	if rep.Verdict != quorum.Disagree || p1.Reachable || p1.Status != quorum.Unreachable || p1.Verified {
		t.Errorf("audit with p1 down: verdict %s, p1 %+v", rep.Verdict, p1)
	}
	if !strings.Contains(rep.Table(), "p1 is unreachable") {
		t.Errorf("table does not say p1 is unreachable:\n%s", rep.Table())
	}
}
