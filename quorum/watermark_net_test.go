package quorum_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// withStore gives the client a watermark file at path.
func withStore(path string, key *secp256k1.PrivateKey) func(*quorum.Config) {
	return func(cfg *quorum.Config) {
		cfg.Watermarks = quorum.OpenWatermarkFile(path, wire.PublicID(key))
	}
}

// failedPut writes kvs while only the providers in reach are up, and checks
// that it failed.
func failedPut(t *testing.T, c *quorum.Client, net *testnet.Network, reach []int, kvs ...provider.KV) {
	t.Helper()
	var down []*testnet.Provider
	for i, p := range net.Providers() {
		if !slices.Contains(reach, i) {
			down = append(down, p)
		}
	}
	stop(t, down...)
	if _, err := c.Put(testCtx(t), kvs); !errors.Is(err, quorum.ErrNoQuorum) {
		t.Fatalf("put %v with only %v up: %v, want a failed put", kvs, reach, err)
	}
	settle(t, c)
	restart(t, down...)
}

// Observation 7: after every provider was rolled back, a put at or below the
// acknowledged version is refused before anything is sent, whatever the
// version and value; a fresh process with the saved watermark refuses it too.
// Re-putting the acknowledged value at its version is the allowed way back.
func TestPutAtOrBelowTheWatermarkIsRefused(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	path := filepath.Join(t.TempDir(), "wm.json")
	c := newClient(t, net, key, withStore(path, key))

	for v := range int64(4) {
		put(t, c, kv("k0", v, "old"))
	}
	settle(t, c)
	snaps := snapshotAll(t, ps)
	put(t, c, kv("k0", 4, "v4"))
	put(t, c, kv("k0", 5, "acked"))
	settle(t, c)
	rollbackAll(t, ps, snaps)
	if _, err := c.Get(ctx, ""); !errors.Is(err, quorum.ErrRollback) {
		t.Fatalf("get after the rollback of every provider: %v, want a rollback", err)
	}

	restarted := newClient(t, net, key, withStore(path, key))
	for _, cl := range []*quorum.Client{c, restarted} {
		for _, try := range []provider.KV{kv("k0", 4, "\xff"), kv("k0", 5, "\xee"), kv("k0", 3, "old")} {
			_, err := cl.Put(ctx, []provider.KV{try})
			var bw *quorum.BelowWatermarkError
			if !errors.As(err, &bw) || !errors.Is(err, quorum.ErrRollback) || !strings.Contains(err.Error(), "nothing was sent") {
				t.Fatalf("put k0@%d after the rollback: %v, want it refused below the watermark", try.Version, err)
			}
		}
	}
	// Nothing reached any provider: each still holds the rolled-back v3.
	for _, p := range ps {
		if es := direct(t, p, key, "k0"); len(es) != 1 || es[0].Version != 3 {
			t.Errorf("%s holds %v after refused puts", p.Name(), render(es))
		}
	}
	if _, err := restarted.Get(ctx, ""); !errors.Is(err, quorum.ErrRollback) {
		t.Errorf("get after refused puts: %v, want still a rollback", err)
	}

	// The way back: the acknowledged value at its version, and only that.
	if _, err := restarted.Reput(ctx, []provider.KV{kv("k0", 5, "other")}); !errors.Is(err, quorum.ErrNotAcknowledged) {
		t.Errorf("reput of another value: %v, want refused", err)
	}
	rep, err := restarted.Reput(ctx, []provider.KV{kv("k0", 5, "acked")})
	if err != nil {
		t.Fatalf("reput of the acknowledged value: %v (%+v)", err, rep)
	}
	wantEntries(t, get(t, restarted, ""), "k0@5=acked")
	wantIdentical(t, net, key, "", "k0@5=acked")
}

// Observation 8: a failed plain put leaves k@1="a" on one provider; its retry
// k@1="b" is acknowledged by the other two. With one of those away, the read
// returns the acknowledged "b" (the watermark's digest), not the byte-order
// smaller "a", and calls the leftover diverged. A client without the watermark
// gets a tie error naming both providers, not a silent pick.
func TestTieAtOneVersionPrefersTheAcknowledgedValue(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	failedPut(t, c, net, []int{0}, kv("k", 0, "a"))
	stop(t, ps[0])
	put(t, c, kv("k", 0, "b"))
	settle(t, c)
	restart(t, ps[0])

	// All up: "b" is held by W=2, so even a client without the watermark
	// knows it was acknowledged.
	fresh := newClient(t, net, key)
	res := get(t, fresh, "")
	wantEntries(t, res, "k@0=b")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Diverged, "p1": quorum.UpToDate, "p2": quorum.UpToDate})

	stop(t, ps[2])
	res = get(t, c, "")
	wantEntries(t, res, "k@0=b")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Diverged, "p1": quorum.UpToDate, "p2": quorum.Unreachable})

	res, err := newClient(t, net, key).Get(ctx, "")
	var te *quorum.TieError
	if !errors.As(err, &te) || !errors.Is(err, quorum.ErrTie) || len(te.Ties) != 1 || te.Ties[0].Key != "k" {
		t.Fatalf("get without the watermark: %v, want a tie on k", err)
	}
	if len(res.Entries) != 0 {
		t.Errorf("a tie returned entries %v", render(res.Entries))
	}
	for _, want := range []string{"p0", "p1", `"k" v0`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("tie error %q does not name %s", err, want)
		}
	}
}

// Observation 9: a read writes a failed put's leftover that one provider holds
// back to the providers that lack it; where it cannot (here a base-protocol
// provider that is more than one version behind) the version stays held by one
// provider: the read fails as unconfirmed rather than return it, and it does
// not raise the watermark, so when that provider goes away the read quorum, which holds
// every acknowledged write, is not reported rolled back, by this client or a
// restarted one.
func TestUnconfirmedVersionDoesNotRaiseTheWatermark(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3, 1) // p1 speaks only the base protocol: no Restore
	ps := net.Providers()
	key := newKey(t)
	path := filepath.Join(t.TempDir(), "wm.json")
	c := newClient(t, net, key, withStore(path, key))

	put(t, c, kv("k", 0, "v0"), kv("j", 0, "j0"))
	settle(t, c)
	failedPut(t, c, net, []int{0}, kv("k", 1, "leftover1"))
	failedPut(t, c, net, []int{0}, kv("k", 2, "leftover2"))

	stop(t, ps[2])
	res, err := c.Get(ctx, "")
	var ue *quorum.UnconfirmedError
	if !errors.As(err, &ue) || !errors.Is(err, quorum.ErrUnconfirmed) || len(ue.Keys) != 1 ||
		ue.Keys[0] != (quorum.KeyUnconfirmed{Key: "k", Version: 2, Holders: 1}) {
		t.Fatalf("get while only p0 holds k v2 and it cannot be written back: %v, want unconfirmed k v2", err)
	}
	if len(res.Entries) != 0 {
		t.Errorf("an unconfirmed read returned %v", render(res.Entries))
	}
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Ahead, "p1": quorum.Behind})
	if m := c.Watermark().Keys["k"]; m.Version != 0 {
		t.Errorf("watermark of k = v%d after reading a version only one provider holds, want v0", m.Version)
	}
	if es := direct(t, ps[1], key, "k"); len(es) != 1 || es[0].Version != 0 {
		t.Errorf("p1 holds %v: the base protocol cannot take v2 over v0", render(es))
	}

	stop(t, ps[0])
	restart(t, ps[2])
	for _, cl := range []*quorum.Client{c, newClient(t, net, key, withStore(path, key))} {
		res, err := cl.Get(ctx, "")
		if err != nil {
			t.Fatalf("get without the provider holding the leftover: %v", err)
		}
		wantEntries(t, res, "j@0=j0", "k@0=v0")
	}
}

// A plain read that returns a version fewer than W providers hold writes it
// back first, so a later read from the other providers cannot go back in time,
// and the watermark rises to it once W hold it.
func TestReadWritesBackAVersionFewerThanWHold(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("k", 0, "v0"))
	settle(t, c)
	failedPut(t, c, net, []int{0}, kv("k", 1, "leftover"))

	stop(t, ps[2])
	wantEntries(t, get(t, c, ""), "k@1=leftover")
	if m := c.Watermark().Keys["k"]; m.Version != 1 {
		t.Errorf("watermark of k = v%d after the read wrote v1 back to a write quorum, want v1", m.Version)
	}
	stop(t, ps[0])
	restart(t, ps[2])
	res, err := newClient(t, net, key).Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	wantEntries(t, res, "k@1=leftover")
}

// A version W replies hold raises the watermark, even one this client did not
// write (another process of the same client), and is saved before Get returns.
func TestConfirmedReadRaisesAndSavesTheWatermark(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	key := newKey(t)
	path := filepath.Join(t.TempDir(), "wm.json")
	writer := newClient(t, net, key)
	put(t, writer, kv("k", 0, "v0"))
	settle(t, writer)

	reader := newClient(t, net, key, withStore(path, key))
	get(t, reader, "")
	saved, err := quorum.OpenWatermarkFile(path, wire.PublicID(key)).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m := saved.Keys["k"]; m.Version != 0 || string(m.Digest) != string(quorum.ValueDigest([]byte("v0"))) {
		t.Errorf("saved mark of k = %+v, want v0 with the digest of v0", m)
	}
	if len(saved.Confirmed) != 3 || saved.Confirmed["p1"]["k"] != 0 {
		t.Errorf("saved confirmed versions = %v, want k@0 for p0, p1, p2", saved.Confirmed)
	}
}

// A lying provider serves, at the acknowledged version, another value this
// client once sealed (a failed put's), while the honest ones are rolled back
// or away: the read fails as a rollback rather than return a value with the
// wrong digest.
func TestLyingProviderWithAnotherValueAtTheAcknowledgedVersion(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	put(t, c, kv("k", 0, "v0"))
	settle(t, c)
	snap := snapshot(t, ps[1])
	failedPut(t, c, net, []int{0}, kv("k", 1, "unacknowledged"))
	stop(t, ps[0])
	put(t, c, kv("k", 1, "acknowledged"))
	settle(t, c)
	restart(t, ps[0])
	// p1 rolls back to v0, p2 goes away: p0 alone holds v1, with the value
	// that was never acknowledged.
	rollback(t, ps[1], snap)
	stop(t, ps[2])

	res, err := c.Get(ctx, "")
	var rb *quorum.RollbackError
	if !errors.As(err, &rb) || len(rb.Keys) != 1 || rb.Keys[0] != (quorum.KeyRollback{Key: "k", Watermark: 1, Merged: 1, OtherValue: true}) {
		t.Fatalf("get: %v, want a rollback naming k at v1 with another value", err)
	}
	if len(res.Entries) != 0 || !strings.Contains(err.Error(), "with another value") {
		t.Errorf("entries %v, error %q", render(res.Entries), err)
	}
}

// A lying provider writes a forged higher version into its own database
// (without the client's HMAC secret): it is faulty, its data ignored, the
// acknowledged value returned, and the watermark not raised by the forgery,
// so the client's next real version is not refused.
func TestLyingProviderWithAForgedHigherVersion(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)
	put(t, c, kv("k", 0, "v0"))
	settle(t, c)

	forger, err := provider.Dial(ctx, provider.Options{Addr: ps[0].Addr(), Name: "forger", ServerID: ps[0].ServerID(),
		ClientKey: key, HMACSecret: make([]byte, wire.SecretSize), DialTimeout: callTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	if err := forger.Put(ctx, []provider.KV{kv("k", 1, "forged")}); err != nil {
		t.Fatal(err)
	}

	res := get(t, c, "")
	wantEntries(t, res, "k@0=v0")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Faulty})
	if m := c.Watermark().Keys["k"]; m.Version != 0 {
		t.Errorf("watermark of k = v%d after a forged v1, want v0", m.Version)
	}
	if _, err := c.Put(context.Background(), []provider.KV{kv("k", 1, "real")}); err != nil && errors.Is(err, quorum.ErrRollback) {
		t.Errorf("the client's real v1 was refused: %v", err)
	}
}

// After a rollback of every provider, a client that knows the acknowledged
// versions but not what each provider confirmed (a watermark file of the
// older format) still names every answering provider as below the watermark,
// never as up to date.
func TestRollbackWithoutConfirmedVersionsNamesEveryProvider(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)
	put(t, c, kv("k", 0, "v0"))
	settle(t, c)
	snaps := snapshotAll(t, ps)
	put(t, c, kv("k", 1, "v1"))
	settle(t, c)
	rollbackAll(t, ps, snaps)

	fresh := newClient(t, net, key)
	fresh.SetWatermark(quorum.Watermarks{Keys: map[string]quorum.Mark{"k": {Version: 1}}})
	res, err := fresh.Get(ctx, "")
	if !errors.Is(err, quorum.ErrRollback) {
		t.Fatalf("get: %v, want a rollback", err)
	}
	for _, s := range res.Providers {
		if s.Status != quorum.Behind || len(s.BelowWatermark) != 1 || s.BelowWatermark[0] != (quorum.KeyLoss{Key: "k", Confirmed: 1, Held: 0}) {
			t.Errorf("%s = %v %+v, want behind, below the watermark on k (v0 of v1)", s.Name, s.Status, s.BelowWatermark)
		}
	}
}
