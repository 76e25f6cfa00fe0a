package lssd

import (
	"fmt"
	"sync"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
)

// TestConcurrentPutsOneWinnerPerVersion races many writers for the same version of
// one key on the embedded database (group commit on): exactly one wins, the others
// see its write as a conflict, and unrelated concurrent writes all succeed.
func TestConcurrentPutsOneWinnerPerVersion(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, boltOptions(t, t.TempDir()))
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	const writers = 16
	var wg sync.WaitGroup
	replies := make([]*lsspb.PutReply, writers)
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			req := c.putRequest(kv("contended", 0, fmt.Sprint(i)), kv(fmt.Sprintf("own/%02d", i), 0, "x"))
			replies[i], errs[i] = c.rpc.Put(ctxT(t), req)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	winner := -1
	for i, r := range replies {
		if r.Success {
			if winner >= 0 {
				t.Fatalf("writers %d and %d both won version 0", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	for i, r := range replies {
		if i != winner {
			wantKVs(t, fmt.Sprintf("writer %d conflicts", i), r.Conflicts, kv("contended", 0, fmt.Sprint(winner)))
		}
	}
	got := c.get("")
	if len(got) != 2 || got[0].Key != "contended" || string(got[0].Value) != fmt.Sprint(winner) ||
		got[1].Key != fmt.Sprintf("own/%02d", winner) {
		t.Errorf("stored %v, want only the winner's writes", got)
	}

	// Writers on distinct keys never conflict.
	for i := range writers {
		wg.Go(func() {
			r, err := c.rpc.Put(ctxT(t), c.putRequest(kv(fmt.Sprintf("free/%02d", i), 0, "x")))
			if err != nil || !r.GetSuccess() {
				t.Errorf("independent put %d: %v, %v", i, r, err)
			}
		})
	}
	wg.Wait()
	if n := len(c.get("free/")); n != writers {
		t.Errorf("%d of %d independent puts stored", n, writers)
	}
}
