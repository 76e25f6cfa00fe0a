package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// RaceTwoBackends checks that two backends over one shared database (two lssd
// front-ends) serialize racing puts: for each version, writers on both race a put
// of the same key, exactly one wins, every loser sees a conflict at the winner's
// version, and both front-ends then read the winner.
func RaceTwoBackends(t *testing.T, a, b store.Backend) {
	t.Helper()
	fronts := []*store.Store{store.New(a, store.Options{}), store.New(b, store.Options{})}
	client := newClient(t)
	const perFront = 4
	for version := int64(0); version < 5; version++ {
		var wg sync.WaitGroup
		results := make(chan string, 2*perFront)
		for f, s := range fronts {
			for w := range perFront {
				wg.Go(func() {
					value := fmt.Sprintf("front %d writer %d", f, w)
					conflicts, err := s.Put(ctx(t), client, []store.KV{{Key: "k", Version: version, Value: []byte(value)}})
					switch {
					case err != nil:
						t.Errorf("version %d %s: %v", version, value, err)
					case len(conflicts) == 0:
						results <- value
					case conflicts[0].Version != version:
						t.Errorf("version %d %s: conflict at version %d, want the winner's %d", version, value, conflicts[0].Version, version)
					}
				})
			}
		}
		wg.Wait()
		close(results)
		var winners []string
		for w := range results {
			winners = append(winners, w)
		}
		if len(winners) != 1 {
			t.Fatalf("version %d: %d winners %q, want exactly 1", version, len(winners), winners)
		}
		for f, s := range fronts {
			got, err := s.Get(ctx(t), client, "k")
			if err != nil || len(got) != 1 || string(got[0].Value) != winners[0] || got[0].Version != version {
				t.Fatalf("front %d reads %v, %v; want %q at version %d", f, got, err, winners[0], version)
			}
		}
	}
}
