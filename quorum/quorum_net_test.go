package quorum_test

import (
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
	if wm := c.Watermark(); wm["chan/1"] != 1 || wm["chan/2"] != 0 || wm["other"] != 0 {
		t.Errorf("watermark = %v", wm)
	}
}
