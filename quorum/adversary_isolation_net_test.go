package quorum_test

import (
	"errors"
	"testing"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// A provider that copies another client's data, validly MACed and proven for
// that client, into this client's namespace (G6: its operator holds both) does
// not get it read: the value MAC and the commit proof are keyed by each
// client's own secret, so for this client the copy is tampered data, p2 is
// named faulty and the key is not returned. Plaintext on both clients, so that
// the value MAC alone is what refuses it.
func TestAdversaryAnotherClientsDataIsNotThisClients(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	keyA, keyB := newKey(t), newKey(t)
	plainAtomic := func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.DisableEncryption = true
	}
	a := newClient(t, net, keyA, plainAtomic)
	b := newClient(t, net, keyB, plainAtomic)
	put(t, a, kv("mine", 0, "a's"))
	put(t, b, kv("theirs", 0, "b's"), kv("mine", 0, "b's"))
	put(t, b, kv("mine", 1, "b's newer"))
	settle(t, a)
	settle(t, b)

	// p2 copies b's entries, stored bytes, txid and proof, into a's namespace.
	cl := dialQuorum(t, ps[2], keyA)
	defer cl.Close()
	if _, _, err := cl.Restore(ctx, direct(t, ps[2], keyB, "")); err != nil {
		t.Fatalf("p2 stores b's entries for a: %v", err)
	}
	if _, err := cl.Get(ctx, ""); !errors.Is(err, provider.ErrValueHMAC) {
		t.Errorf("a's own read of p2: %v, want b's copy to fail a's value MAC", err)
	}

	res, err := a.Get(ctx, "")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	wantEntries(t, res, "mine@0=a's")
	if s := state(t, res, "p2"); s.Status != quorum.Faulty || !errors.Is(s.Err, provider.ErrValueHMAC) {
		t.Errorf("p2 is %v (%v), want faulty for b's data in a's namespace", s.Status, s.Err)
	}
	wantEntries(t, get(t, b, ""), "mine@1=b's newer", "theirs@0=b's")
}
