package testnet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/grpc/codes"
)

func startNet(t *testing.T, cfg Config) *Network {
	t.Helper()
	n, err := Start(ctxT(t, 30*time.Second), cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return n
}

// failsFast asserts that a Get fails with Unavailable although its deadline is far
// away: the provider is down and the client must learn it at once.
func failsFast(t *testing.T, c *testClient, what string) {
	t.Helper()
	_, err := c.get(ctxT(t, 5*time.Second), "")
	wantCode(t, what, err, codes.Unavailable)
}

func TestStartServesEveryProvider(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 3})
	ps := n.Providers()
	if len(ps) != 3 {
		t.Fatalf("%d providers, want 3", len(ps))
	}
	addrs, ids := map[string]bool{}, map[string]bool{}
	for i, p := range ps {
		if p.Index() != i || p.Name() != "p"+string(rune('0'+i)) {
			t.Fatalf("provider %d is named %d/%q", i, p.Index(), p.Name())
		}
		if !strings.HasPrefix(p.Addr(), "127.0.0.1:") {
			t.Fatalf("%s listens on %s, want loopback", p.Name(), p.Addr())
		}
		if !p.Running() || p.BaseOnly() {
			t.Fatalf("%s: running %v, base-only %v", p.Name(), p.Running(), p.BaseOnly())
		}
		if _, err := os.Stat(filepath.Join(p.DataDir(), lssd.BoltFileName)); err != nil {
			t.Fatalf("%s has no bolt store: %v", p.Name(), err)
		}
		addrs[p.Addr()], ids[string(p.ServerID())] = true, true

		c := newTestClient(t, p)
		id, err := c.serverID(ctxT(t, 5*time.Second))
		if err != nil || !bytes.Equal(id, p.ServerID()) {
			t.Fatalf("%s Info: server_id %x, %v; want %x", p.Name(), id, err, p.ServerID())
		}
		c.mustPut(kv("a", 0, p.Name()), kv("b", 0, "x"))
		wantKVs(t, p.Name(), c.mustGet(""), kv("a", 0, p.Name()), kv("b", 0, "x"))
	}
	if len(addrs) != 3 || len(ids) != 3 {
		t.Fatalf("providers share addresses or keys: %d addresses, %d server_ids", len(addrs), len(ids))
	}
}

func TestStopFailsFastAndRestartKeepsData(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 3})
	p := n.Providers()[1]
	addr, id := p.Addr(), p.ServerID()
	c := newTestClient(t, p)
	c.mustPut(kv("k", 0, "v0"))

	if err := p.Stop(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("running after Stop")
	}
	failsFast(t, c, "get from a stopped provider")
	// A fresh connection is refused just as fast.
	failsFast(t, newTestClient(t, p), "get from a stopped provider, new connection")
	if err := p.Stop(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	// The other providers are unaffected.
	newTestClient(t, n.Providers()[0]).mustPut(kv("other", 0, "ok"))

	if err := p.Restart(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if p.Addr() != addr || !bytes.Equal(p.ServerID(), id) {
		t.Fatalf("restart changed the address (%s → %s) or server_id (%x → %x)", addr, p.Addr(), id, p.ServerID())
	}
	wantKVs(t, "after restart", c.getEventually(""), kv("k", 0, "v0"))
	got, err := c.serverID(ctxT(t, 5*time.Second))
	if err != nil || !bytes.Equal(got, id) {
		t.Fatalf("Info after restart: %x, %v; want %x", got, err, id)
	}
	c.mustPut(kv("k", 1, "v1"))
	wantKVs(t, "put after restart", c.mustGet(""), kv("k", 1, "v1"))
}

func TestCrashKeepsAcknowledgedPuts(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 1})
	p := n.Providers()[0]
	c := newTestClient(t, p)
	var want []*lsspb.KeyValue
	for i := range 20 {
		k := kv("key"+string(rune('a'+i)), 0, "value")
		c.mustPut(k)
		want = append(want, k)
	}
	if err := p.Crash(); err != nil {
		t.Fatal(err)
	}
	failsFast(t, c, "get from a crashed provider")
	if err := p.Crash(); err != nil {
		t.Fatalf("second Crash: %v", err)
	}
	if err := p.Restart(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "after crash and restart", c.getEventually(""), want...)
}

func TestRestartWhileRunning(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 1})
	p := n.Providers()[0]
	c := newTestClient(t, p)
	c.mustPut(kv("k", 0, "v"))
	if err := p.Restart(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !p.Running() {
		t.Fatal("not running after Restart")
	}
	wantKVs(t, "after restart", c.getEventually(""), kv("k", 0, "v"))
}

func TestSnapshotAndRollbackServeOldData(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 2})
	p := n.Providers()[0]
	id := p.ServerID()
	c := newTestClient(t, p)
	c.mustPut(kv("k", 0, "old"))

	snap, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if snap.Provider() != p.Name() || snap.Taken().IsZero() {
		t.Fatalf("snapshot of %s says provider %q taken %v", p.Name(), snap.Provider(), snap.Taken())
	}
	if !p.Running() {
		t.Fatal("Snapshot left the provider stopped")
	}
	c.getEventually("")
	c.mustPut(kv("k", 1, "new"))
	c.mustPut(kv("later", 0, "x"))
	wantKVs(t, "before rollback", c.mustGet(""), kv("k", 1, "new"), kv("later", 0, "x"))

	if err := p.Rollback(ctxT(t, 10*time.Second), snap); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "after rollback", c.getEventually(""), kv("k", 0, "old"))
	if !bytes.Equal(p.ServerID(), id) {
		t.Fatal("rollback changed the server_id")
	}
	// The snapshot can be used again, and a stopped provider can be snapshotted.
	c.mustPut(kv("k", 1, "again"))
	if err := p.Stop(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	snap2, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("Snapshot started a stopped provider")
	}
	if err := p.Rollback(ctxT(t, 10*time.Second), snap); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "second rollback", c.getEventually(""), kv("k", 0, "old"))
	if err := p.Rollback(ctxT(t, 10*time.Second), snap2); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "rollback to the later snapshot", c.getEventually(""), kv("k", 1, "again"))
}

func TestRollbackRefusesForeignOrEmptySnapshot(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 2})
	p0, p1 := n.Providers()[0], n.Providers()[1]
	snap, err := p0.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	err = p1.Rollback(ctxT(t, 5*time.Second), snap)
	if err == nil || !strings.Contains(err.Error(), "p0") {
		t.Fatalf("rollback of p1 to p0's snapshot: %v, want an error naming p0", err)
	}
	if err := p1.Rollback(ctxT(t, 5*time.Second), Snapshot{}); err == nil {
		t.Fatal("rollback to the zero Snapshot succeeded")
	}
	if !p1.Running() {
		t.Fatal("a refused rollback stopped the provider")
	}
}

func TestTamperChangesValueKeepsVersion(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 1})
	p := n.Providers()[0]
	c := newTestClient(t, p)
	c.mustPut(kv("a", 0, "keep"), kv("k", 0, "v0"))
	c.mustPut(kv("k", 1, "honest"))

	var seen []byte
	err := p.Tamper(ctxT(t, 10*time.Second), c.id, "k", func(v []byte) []byte {
		seen = append([]byte(nil), v...)
		v[0] ^= 0xff
		return append(v, '!')
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(seen) != "honest" {
		t.Fatalf("mutate saw %q, want the stored value %q", seen, "honest")
	}
	if !p.Running() {
		t.Fatal("Tamper left the provider stopped")
	}
	want := append([]byte{'h' ^ 0xff}, "onest!"...)
	wantKVs(t, "after tamper", c.getEventually(""), kv("a", 0, "keep"), kv("k", 1, string(want)))

	// Another client's namespace has no such key.
	other := newTestClient(t, p)
	err = p.Tamper(ctxT(t, 10*time.Second), other.id, "k", func(v []byte) []byte { return v })
	if !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("tamper of a missing key: %v, want ErrKeyNotFound", err)
	}
	if err := p.Tamper(ctxT(t, 10*time.Second), c.id, "k", nil); err == nil {
		t.Fatal("tamper with a nil function succeeded")
	}
	wantKVs(t, "after refused tampers", c.getEventually(""), kv("a", 0, "keep"), kv("k", 1, string(want)))
}

func TestTamperStoppedProviderStaysStopped(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 1})
	p := n.Providers()[0]
	c := newTestClient(t, p)
	c.mustPut(kv("k", 0, "v"))
	if err := p.Stop(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := p.Tamper(ctxT(t, 10*time.Second), c.id, "k", func([]byte) []byte { return []byte("forged") }); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("Tamper started a stopped provider")
	}
	if err := p.Restart(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "after tamper", c.getEventually(""), kv("k", 0, "forged"))
}

func TestLatencyDelaysCalls(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 2})
	slow := n.Providers()[0]
	c := newTestClient(t, slow)
	c.mustPut(kv("k", 0, "v")) // connect first, so the timing below is one call

	const d = 50 * time.Millisecond
	slow.SetLatency(d)
	start := time.Now()
	c.mustGet("")
	if took := time.Since(start); took < d {
		t.Fatalf("Get took %v with latency %v", took, d)
	}
	slow.SetLatency(0)
	c.mustGet("")
}

func TestCutAndHeal(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 2})
	p := n.Providers()[0]
	c := newTestClient(t, p)
	c.mustPut(kv("k", 0, "v"))

	p.Cut()
	failsFast(t, c, "get through a cut connection")
	if !p.Running() {
		t.Fatal("Cut stopped the server")
	}
	newTestClient(t, n.Providers()[1]).mustPut(kv("k", 0, "other"))

	p.Heal()
	wantKVs(t, "after heal", c.getEventually(""), kv("k", 0, "v"))
}

func TestBlackholeNeverAnswersUntilHeal(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 2})
	p := n.Providers()[0]
	c := newTestClient(t, p)
	c.mustPut(kv("k", 0, "v"))

	p.Blackhole()
	_, err := c.get(ctxT(t, 300*time.Millisecond), "")
	wantCode(t, "get from a blackholed provider", err, codes.DeadlineExceeded)
	// A client connecting during the blackhole gets no answer either.
	late := newTestClient(t, p)
	_, err = late.serverID(ctxT(t, 300*time.Millisecond))
	wantCode(t, "info from a blackholed provider", err, codes.DeadlineExceeded)

	p.Heal()
	wantKVs(t, "after heal", c.getEventually(""), kv("k", 0, "v"))
	if _, err := late.serverID(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("info after heal: %v", err)
	}
}

func TestStopWhileBlackholed(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 1})
	p := n.Providers()[0]
	c := newTestClient(t, p)
	c.mustPut(kv("k", 0, "v"))
	p.Blackhole()
	start := time.Now()
	if err := p.Stop(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The held connection must not keep the graceful stop waiting for its
	// deadline.
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("stop of a blackholed provider took %v", took)
	}
	p.Heal()
	failsFast(t, c, "get from a stopped provider after heal")
	if err := p.Restart(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "after restart", c.getEventually(""), kv("k", 0, "v"))
}

func TestBaseOnlyProviderAnswersExtensionUnimplemented(t *testing.T) {
	t.Parallel()
	n := startNet(t, Config{N: 3, BaseOnly: []int{1}})
	for _, p := range n.Providers() {
		if p.BaseOnly() != (p.Index() == 1) {
			t.Fatalf("%s: BaseOnly() = %v", p.Name(), p.BaseOnly())
		}
		c := newTestClient(t, p)
		c.mustPut(kv("k", 0, "v"))
		wantKVs(t, p.Name(), c.mustGet(""), kv("k", 0, "v"))
		_, err := c.rpc.BoundGet(ctxT(t, 5*time.Second), &lsspb.GetRequest{Auth: c.auth(), Nonce: []byte("n")})
		if p.BaseOnly() {
			wantCode(t, p.Name()+" BoundGet", err, codes.Unimplemented)
		} else if err != nil {
			t.Fatalf("%s BoundGet: %v", p.Name(), err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{N: 0}, "N = 0"},
		{Config{N: -1}, "N = -1"},
		{Config{N: 2, BaseOnly: []int{2}}, "index 2 out of range"},
		{Config{N: 2, BaseOnly: []int{-1}}, "index -1 out of range"},
		{Config{N: 2, BaseOnly: []int{1, 1}}, "index 1 listed twice"},
		{Config{N: 1, Retention: -time.Second}, "Retention = -1s"},
		{Config{N: 1, PruneInterval: -time.Second}, "PruneInterval = -1s"},
	} {
		n, err := Start(ctxT(t, 5*time.Second), tc.cfg)
		if err == nil {
			n.Close()
			t.Fatalf("Start(%+v) succeeded", tc.cfg)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("Start(%+v): %v, want it to mention %q", tc.cfg, err, tc.want)
		}
	}
}

func TestStartFailsOnUnusableDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := Start(ctxT(t, 5*time.Second), Config{N: 2, Dir: file})
	if err == nil {
		n.Close()
		t.Fatal("Start under a regular file succeeded")
	}
	if !strings.Contains(err.Error(), file) {
		t.Fatalf("error %q does not name %s", err, file)
	}
}

func TestStartFailureStopsWhatStarted(t *testing.T) {
	before := countGoroutines()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "p1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p1", lssd.KeyFileName), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := Start(ctxT(t, 30*time.Second), Config{N: 3, Dir: dir})
	if err == nil {
		n.Close()
		t.Fatal("Start with a corrupt server key succeeded")
	}
	if !strings.Contains(err.Error(), "p1") {
		t.Fatalf("error %q does not name p1", err)
	}
	waitGoroutines(t, before)
}

func TestDirIsKeptAndReused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n, err := Start(ctxT(t, 30*time.Second), Config{N: 2, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if n.Dir() != dir {
		t.Fatalf("Dir() = %s, want %s", n.Dir(), dir)
	}
	var ids [][]byte
	var clients []*testClient
	for _, p := range n.Providers() {
		if filepath.Dir(p.DataDir()) != dir {
			t.Fatalf("%s data dir %s is not under %s", p.Name(), p.DataDir(), dir)
		}
		c := newTestClient(t, p)
		c.mustPut(kv("k", 0, p.Name()))
		ids = append(ids, p.ServerID())
		clients = append(clients, c)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "p0", lssd.BoltFileName)); err != nil {
		t.Fatalf("Close removed a directory it did not create: %v", err)
	}

	n2 := startNet(t, Config{N: 2, Dir: dir})
	for i, p := range n2.Providers() {
		if !bytes.Equal(p.ServerID(), ids[i]) {
			t.Fatalf("%s came back with another server_id", p.Name())
		}
		// Same client key, new address.
		c := newTestClientWithKey(t, p, clients[i].priv)
		wantKVs(t, p.Name(), c.mustGet(""), kv("k", 0, p.Name()))
	}
}

func TestCloseRemovesTempDirAndLeavesNoGoroutines(t *testing.T) {
	before := countGoroutines()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := Start(ctx, Config{N: 3, BaseOnly: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	ps := n.Providers()
	// Leave each kind of fault in place: Close must end them all.
	ps[0].SetLatency(5 * time.Millisecond)
	ps[1].Blackhole()
	ps[2].Cut()
	c := newTestClient(t, ps[0])
	c.mustPut(kv("k", 0, "v"))
	blocked := newTestClient(t, ps[1])
	_, _ = blocked.get(ctxT(t, 100*time.Millisecond), "")
	c.conn.Close()
	blocked.conn.Close()

	dir := n.Dir()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp dir %s still there after Close: %v", dir, err)
	}
	// Nothing may come back to life after Close.
	if err := ps[0].Restart(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Restart after Close: %v, want ErrClosed", err)
	}
	if err := ps[1].Stop(ctx); err != nil {
		t.Fatalf("Stop after Close: %v", err)
	}
	waitGoroutines(t, before)
}
