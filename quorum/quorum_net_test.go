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

	got := get(t, c, "chan/")
	wantEntries(t, got, "chan/1@1=a1", "chan/2@0=b")
	for _, s := range got.Providers {
		// The third provider's write may still be in flight: Put returned at W.
		if s.Status != quorum.UpToDate && s.Status != quorum.Behind {
			t.Errorf("%s is %v (%v)", s.Name, s.Status, s.Err)
		}
	}
	if wm := c.Watermark(); wm["chan/1"] != 1 || wm["chan/2"] != 0 || wm["other"] != 0 {
		t.Errorf("watermark = %v", wm)
	}
}
