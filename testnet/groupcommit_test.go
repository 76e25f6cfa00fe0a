package testnet

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestNoGroupCommitServesConcurrentWrites checks that a network started with
// group commit off runs its servers that way, across a restart too, and still
// stores concurrent writers' puts; a default network has it on.
func TestNoGroupCommitServesConcurrentWrites(t *testing.T) {
	t.Parallel()
	if p := startNet(t, Config{N: 1}).Providers()[0]; !p.GroupCommit() {
		t.Fatalf("default network: %s has group commit off", p.Name())
	}
	p := startNet(t, Config{N: 1, NoGroupCommit: true}).Providers()[0]
	if p.GroupCommit() {
		t.Fatalf("NoGroupCommit network: %s has group commit on", p.Name())
	}
	if err := p.Restart(ctxT(t, 10*time.Second)); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if p.GroupCommit() {
		t.Fatalf("%s turned group commit on across a restart", p.Name())
	}
	clients := make([]*testClient, 4)
	for i := range clients {
		clients[i] = newTestClient(t, p)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Go(func() {
			for j := range 5 {
				key := fmt.Sprintf("k%d", j)
				if err := c.put(ctxT(t, 10*time.Second), kv(key, 0, key)); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, c := range clients {
		if errs[i] != nil {
			t.Fatalf("client %d put: %v", i, errs[i])
		}
		if got := c.mustGet(""); len(got) != 5 {
			t.Fatalf("client %d reads %d keys, want 5", i, len(got))
		}
	}
}
