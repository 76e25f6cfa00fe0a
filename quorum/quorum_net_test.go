package quorum_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lssquorum/lss/quorum"
)

func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	c := newClient(t, net, newKey(t))

	res := put(t, c, kv("chan/1", 0, "a"), kv("chan/2", 0, "b"), kv("other", 0, "c"))
	if res.Mode != quorum.ModePlain || len(res.Acked) < 2 {
		t.Errorf("put result %+v: want plain mode acknowledged by at least 2", res)
	}
	put(t, c, kv("chan/1", 1, "a1"))
	settle(t, c)

	got := get(t, c, "chan/")
	wantEntries(t, got, "chan/1@1=a1", "chan/2@0=b")
	wantStatus(t, got, map[string]quorum.Status{"p0": quorum.UpToDate, "p1": quorum.UpToDate, "p2": quorum.UpToDate})
	if wm := c.Watermark().Keys; wm["chan/1"].Version != 1 || wm["chan/2"].Version != 0 || wm["other"].Version != 0 {
		t.Errorf("watermark = %v", wm)
	}
}

// A provider that is down when the client starts is not fatal: it is dialed
// again on each call and takes part as soon as it is up.
func TestProviderDownAtStartJoinsLater(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	p0 := net.Providers()[0]
	stop(t, p0)
	c := newClient(t, net, newKey(t))
	put(t, c, kv("k", 0, "v"))
	wantStatus(t, get(t, c, ""), map[string]quorum.Status{"p0": quorum.Unreachable})

	restart(t, p0)
	res := get(t, c, "")
	wantEntries(t, res, "k@0=v")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.Behind, "p1": quorum.UpToDate, "p2": quorum.UpToDate})
}

// A Get whose caller gives up returns at once with the caller's error.
func TestGetHonoursTheCallersContext(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	c := newClient(t, net, newKey(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Get(ctx, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v", err)
	}
}
