package quorum_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// G1: a put that returned success is returned by every later Get while a read
// quorum answers, whichever minority is stopped, crashed or restarted.
func TestG1AcknowledgedPutsSurviveMinorityFaults(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("k", 0, "v0"), kv("j", 0, "j0"))
	wantEntries(t, get(t, c, ""), "j@0=j0", "k@0=v0")

	// p0 stopped gracefully: puts and gets go on with p1 and p2.
	stop(t, ps[0])
	put(t, c, kv("k", 1, "v1"))
	res := get(t, c, "")
	wantEntries(t, res, "j@0=j0", "k@1=v1")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Unreachable})

	// p0 back (behind, repaired), then p1 crashes.
	restart(t, ps[0])
	wantEntries(t, get(t, c, ""), "j@0=j0", "k@1=v1")
	if _, err := c.Repair(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := ps[1].Crash(); err != nil {
		t.Fatal(err)
	}
	put(t, c, kv("k", 2, "v2"), kv("j", 1, "j1"))
	wantEntries(t, get(t, c, ""), "j@1=j1", "k@2=v2")

	// p1 restarts from what it made durable; p2 crashes; the acknowledged
	// writes are still there.
	restart(t, ps[1])
	if err := ps[2].Crash(); err != nil {
		t.Fatal(err)
	}
	res = get(t, c, "")
	wantEntries(t, res, "j@1=j1", "k@2=v2")
	wantStatus(t, res, map[string]quorum.Status{"p1": quorum.Behind, "p2": quorum.Unreachable})

	// Everyone back: a fresh client (no watermark) reads the same.
	restart(t, ps[2])
	fresh := newClient(t, net, key)
	wantEntries(t, get(t, fresh, ""), "j@1=j1", "k@2=v2")
}

// G3: a provider that was down during puts comes back, is reported behind on
// exactly the keys it missed, and Repair brings it level.
func TestG3ProviderDownDuringPutsIsBehindAndRepaired(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("a", 0, "a0"), kv("b", 0, "b0"))
	settle(t, c)
	stop(t, ps[2])
	put(t, c, kv("a", 1, "a1"))
	put(t, c, kv("a", 2, "a2"), kv("c", 0, "c0"))
	restart(t, ps[2])

	res := get(t, c, "")
	wantEntries(t, res, "a@2=a2", "b@0=b0", "c@0=c0")
	s := state(t, res, "p2")
	if s.Status != quorum.Behind {
		t.Fatalf("p2 is %v (%v), want behind", s.Status, s.Err)
	}
	if len(s.Behind) != 1 || s.Behind[0] != (quorum.KeyComparison{Key: "a", Version: 0, Others: 2}) {
		t.Errorf("p2 behind = %v, want a at v0 of v2", s.Behind)
	}
	if len(s.Missing) != 1 || s.Missing[0] != (quorum.KeyComparison{Key: "c", Version: -1, Others: 0}) {
		t.Errorf("p2 missing = %v, want c", s.Missing)
	}

	rep, err := c.Repair(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete() {
		t.Errorf("repair incomplete: %+v", rep)
	}
	p2 := rep.Providers[2]
	if p2.Name != "p2" || len(p2.Restored) != 2 ||
		p2.Restored[0] != (quorum.KeyUpdate{Key: "a", From: 0, To: 2}) || p2.Restored[1] != (quorum.KeyUpdate{Key: "c", From: -1, To: 0}) {
		t.Errorf("p2 repair = %+v", p2)
	}
	res = get(t, c, "")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.UpToDate, "p1": quorum.UpToDate, "p2": quorum.UpToDate})
	wantIdentical(t, net, key, "", "a@2=a2", "b@0=b0", "c@0=c0")
}

// G3: a provider restored from an old snapshot is detected and named, never
// wins the merge (even when it is one of only R replies), and is repaired.
func TestG3RolledBackProviderIsNamedNeverWinsAndIsRepaired(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("state", 0, "old"), kv("other", 0, "x"))
	settle(t, c)
	snap := snapshot(t, ps[1])
	put(t, c, kv("state", 1, "mid"))
	put(t, c, kv("state", 2, "new"), kv("later", 0, "y"))
	settle(t, c)
	rollback(t, ps[1], snap)

	res := get(t, c, "")
	wantEntries(t, res, "later@0=y", "other@0=x", "state@2=new")
	s := state(t, res, "p1")
	if s.Status != quorum.RolledBack || len(s.Behind) != 1 || s.Behind[0].Key != "state" || s.Behind[0].Version != 0 ||
		len(s.Missing) != 1 || s.Missing[0].Key != "later" {
		t.Errorf("p1 = %+v, want behind on state (v0) and missing later", s)
	}
	// This client saw p1 acknowledge both writes, so it knows p1 lost them: a
	// rollback, not a lag.
	wantLost := []quorum.KeyLoss{{Key: "later", Confirmed: 0, Held: -1}, {Key: "state", Confirmed: 2, Held: 0}}
	if !slices.Equal(s.RolledBack, wantLost) {
		t.Errorf("p1 rolled back %+v, want %+v", s.RolledBack, wantLost)
	}

	// With p0 down the read quorum is the rolled-back p1 and p2: p2's newer
	// versions still win.
	stop(t, ps[0])
	fresh := newClient(t, net, key) // no watermark: only the merge protects it
	res = get(t, fresh, "")
	wantEntries(t, res, "later@0=y", "other@0=x", "state@2=new")
	// p2 alone (among the answers) holds the newest versions: it is ahead.
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Unreachable, "p1": quorum.Behind, "p2": quorum.Ahead})

	restart(t, ps[0])
	rep, err := c.Repair(ctx, "")
	if err != nil || !rep.Complete() {
		t.Fatalf("repair: %+v, %v", rep, err)
	}
	// The fresh client's read already wrote p2's newer versions back to p1
	// (fewer than W replies held them), so the repair had nothing left to do.
	if got := rep.Providers[1]; len(got.Restored) != 0 || got.Err != nil {
		t.Errorf("p1 repair = %+v, want nothing left to restore", got)
	}
	wantIdentical(t, net, key, "", "later@0=y", "other@0=x", "state@2=new")
}

// G3: when every provider is rolled back, the merge itself looks consistent;
// the watermark is what makes Get fail with a rollback error instead of
// returning the stale state.
func TestG3RollbackOfEveryProviderFailsOnTheWatermark(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("chan/1", 0, "v0"), kv("chan/2", 0, "w0"))
	settle(t, c)
	snaps := snapshotAll(t, ps)
	put(t, c, kv("chan/1", 1, "v1"))
	put(t, c, kv("chan/3", 0, "new"))
	settle(t, c)
	persisted := c.Watermark()
	rollbackAll(t, ps, snaps)

	res, err := c.Get(ctx, "chan/")
	var rb *quorum.RollbackError
	if !errors.As(err, &rb) || !errors.Is(err, quorum.ErrRollback) {
		t.Fatalf("Get after rolling back every provider: %v, want a rollback error", err)
	}
	if res == nil || len(res.Entries) != 0 {
		t.Errorf("rollback returned stale entries: %+v", res)
	}
	if len(rb.Keys) != 2 || rb.Keys[0] != (quorum.KeyRollback{Key: "chan/1", Watermark: 1, Merged: 0}) ||
		rb.Keys[1] != (quorum.KeyRollback{Key: "chan/3", Watermark: 0, Merged: -1}) {
		t.Errorf("rolled back keys = %+v", rb.Keys)
	}
	for _, name := range []string{"p0", "p1", "p2", `"chan/1" acknowledged at v1, providers hold v0`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}

	// A restarted signer that persisted its watermark detects it too; one that
	// did not cannot (the providers agree with each other).
	restarted := newClient(t, net, key)
	restarted.SetWatermark(persisted)
	if _, err := restarted.Get(ctx, ""); !errors.Is(err, quorum.ErrRollback) {
		t.Errorf("restarted client with persisted watermark: %v, want rollback", err)
	}
	forgetful := newClient(t, net, key)
	wantEntries(t, get(t, forgetful, "chan/"), "chan/1@0=v0", "chan/2@0=w0")
}

// G4: a provider that serves a tampered value is named faulty, all its data is
// ignored, and the quorum still answers with the right value.
func TestG4TamperedValueIsFaultyAndIgnored(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("balance", 0, "100"), kv("peer", 0, "x"))
	settle(t, c)
	err := ps[1].Tamper(ctx, key.PubKey().SerializeCompressed(), "balance", func(v []byte) []byte {
		v[0] ^= 0xff // "100" becomes something else; the value HMAC no longer verifies
		return v
	})
	if err != nil {
		t.Fatal(err)
	}

	res := get(t, c, "")
	wantEntries(t, res, "balance@0=100", "peer@0=x")
	s := state(t, res, "p1")
	if s.Status != quorum.Faulty || !errors.Is(s.Err, provider.ErrValueHMAC) {
		t.Fatalf("p1 = %v (%v), want faulty with a value HMAC error", s.Status, s.Err)
	}
	if len(s.Tampered) != 1 || s.Tampered[0].Key != "balance" || s.Keys != 0 {
		t.Errorf("p1 tampered = %v, keys %d; want balance, and no key counted", s.Tampered, s.Keys)
	}
	if !strings.Contains(s.Err.Error(), "p1") {
		t.Errorf("error %q does not name p1", s.Err)
	}
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.UpToDate, "p2": quorum.UpToDate})

	// With another provider down, the faulty one does not count towards R.
	stop(t, ps[0])
	_, err = c.Get(ctx, "")
	var qe *quorum.QuorumError
	if !errors.As(err, &qe) || qe.Got != 1 || !strings.Contains(err.Error(), "p1") || !strings.Contains(err.Error(), "p0") {
		t.Errorf("Get with one valid reply: %v, want a quorum error naming p0 and p1", err)
	}
}

// G4: a provider whose server presents another server_id than the pinned one is
// faulty; the quorum still reads and writes through the others.
func TestG4WrongServerIDIsFaulty(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	c := newClient(t, net, newKey(t), func(cfg *quorum.Config) {
		cfg.Providers[1].ServerID = newKey(t).PubKey().SerializeCompressed() // p1's address, another identity
	})

	res := put(t, c, kv("k", 0, "v"))
	// Put returns at W acknowledgements, so p1's refusal may not be in yet.
	if len(res.Acked) != 2 || slices.Contains(res.Acked, "p1") ||
		res.Failed["p1"] != nil && !errors.Is(res.Failed["p1"], provider.ErrServerIDMismatch) {
		t.Errorf("put = %+v, want acked by p0, p2 and p1 failed on its server_id", res)
	}
	got := get(t, c, "")
	wantEntries(t, got, "k@0=v")
	s := state(t, got, "p1")
	if s.Status != quorum.Faulty || !errors.Is(s.Err, provider.ErrServerIDMismatch) || !strings.Contains(s.Err.Error(), "p1") {
		t.Errorf("p1 = %v (%v), want faulty naming p1 with a server_id mismatch", s.Status, s.Err)
	}

	rep, err := c.Audit(ctx, "", quorum.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Providers[1]
	if a.ServerIDCheck != quorum.ServerIDMismatch || a.Verified || rep.Verdict != quorum.Disagree {
		t.Errorf("audit of p1 = %+v, verdict %s", a, rep.Verdict)
	}
	if !strings.Contains(rep.Table(), "p1 is FAULTY: it presents server_id") {
		t.Errorf("audit table does not explain p1:\n%s", rep.Table())
	}
}

// G6: two client keys have separate namespaces through the quorum.
func TestG6ClientKeysCannotSeeEachOther(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	alice := newClient(t, net, newKey(t))
	bob := newClient(t, net, newKey(t))

	put(t, alice, kv("secret", 0, "alice's"))
	wantEntries(t, get(t, bob, ""))
	// Bob writes the same key at version 0: no conflict, it is his own key.
	put(t, bob, kv("secret", 0, "bob's"))
	wantEntries(t, get(t, alice, ""), "secret@0=alice's")
	wantEntries(t, get(t, bob, ""), "secret@0=bob's")
}
