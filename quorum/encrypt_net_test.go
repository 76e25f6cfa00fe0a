package quorum_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/quorum/envelope"
	"github.com/lssquorum/lss/testnet"
)

// secretState is a recognisable 2 KiB plaintext, the size of a signer's
// channel state entry.
func secretState(tag string) []byte {
	return bytes.Repeat([]byte("CHANNEL-STATE-"+tag+"|"), 2048/(len(tag)+15)+1)[:2048]
}

// onDisk reports whether any file under p's data directory (its database,
// whatever the backend writes) contains needle.
func onDisk(t *testing.T, p *testnet.Provider, needle []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(p.DataDir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || found {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = bytes.Contains(b, needle)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// The providers' databases hold no plaintext of what the client wrote; the same
// search finds the value written by a client with encryption disabled, so the
// search itself works.
func TestProvidersStoreNoPlaintext(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	key := newKey(t)
	c := newClient(t, net, key)
	secret := secretState("secret")
	put(t, c, provider.KV{Key: "chan/1", Version: 0, Value: secret})
	settle(t, c)

	plainKey := newKey(t)
	pc := newClient(t, net, plainKey, func(cfg *quorum.Config) { cfg.DisableEncryption = true })
	visible := secretState("visible")
	put(t, pc, provider.KV{Key: "chan/1", Version: 0, Value: visible})
	settle(t, pc)

	for _, p := range net.Providers() {
		// Any 16 bytes of the secret would do; the search covers every file.
		if onDisk(t, p, secret[100:116]) {
			t.Errorf("%s's database holds the plaintext of an encrypted value", p.Name())
		}
		if !onDisk(t, p, visible[100:116]) {
			t.Errorf("%s's database does not hold the value written without encryption: the search is broken", p.Name())
		}
	}
	if res := get(t, c, "chan/"); len(res.Entries) != 1 || !bytes.Equal(res.Entries[0].Value, secret) {
		t.Fatalf("get returns %v", render(res.Entries))
	}
}

// Two writes of the same plaintext at the same key and version, under the same
// encryption key (two client identities sharing one HMAC secret), are stored as
// different bytes; both read back as the plaintext.
func TestSamePlaintextEncryptsDifferently(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	hmacSecret := bytes.Repeat([]byte{9}, 32)
	var stored [][]byte
	for range 2 {
		key := newKey(t)
		c := newClient(t, net, key, func(cfg *quorum.Config) { cfg.HMACSecret = hmacSecret })
		put(t, c, kv("k", 0, "same plaintext"))
		settle(t, c)
		wantEntries(t, get(t, c, "k"), "k@0=same plaintext")
		for _, p := range net.Providers() {
			cl, err := provider.Dial(testCtx(t), provider.Options{Addr: p.Addr(), ServerID: p.ServerID(), ClientKey: key, HMACSecret: hmacSecret,
				Format: provider.FormatQuorum, Extension: true})
			if err != nil {
				t.Fatal(err)
			}
			es, err := cl.Get(testCtx(t), "k")
			cl.Close()
			if err != nil || len(es) != 1 {
				t.Fatalf("%s: %v %v", p.Name(), es, err)
			}
			if bytes.Contains(es[0].Stored, []byte("same plaintext")) {
				t.Fatalf("%s stores the plaintext", p.Name())
			}
			stored = append(stored, es[0].Stored)
		}
	}
	// Each put is encrypted once for all providers; the two puts differ.
	if !bytes.Equal(stored[0], stored[1]) || !bytes.Equal(stored[3], stored[4]) {
		t.Fatal("one put stored different bytes on different providers")
	}
	if bytes.Equal(stored[0], stored[3]) {
		t.Fatal("two writes of the same plaintext at the same key and version stored the same bytes")
	}
}

// A provider that moves a ciphertext to another key or version, or alters it, is
// named faulty, and the Get returns the right plaintext from the others.
func TestMovedOrAlteredCiphertextIsFaulty(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	client := key.PubKey().SerializeCompressed()
	c := newClient(t, net, key)

	put(t, c, kv("a", 0, "alpha v0"), kv("b", 0, "beta v0"), kv("c", 0, "gamma v0"))
	settle(t, c)
	old := direct(t, ps[0], key, "a")[0].Stored
	put(t, c, kv("a", 1, "alpha v1"))
	settle(t, c)
	storedB := direct(t, ps[0], key, "b")[0].Stored

	cases := []struct {
		name   string
		key    string
		mutate func([]byte) []byte
	}{
		// b's ciphertext (with its MAC) stored under c, same version.
		{"moved to another key", "c", func([]byte) []byte { return bytes.Clone(storedB) }},
		// a's version-0 ciphertext stored as its version 1.
		{"moved to another version", "a", func([]byte) []byte { return bytes.Clone(old) }},
		// One bit of the ciphertext (past the header and nonce) flipped.
		{"altered", "b", func(v []byte) []byte { v[envelope.HeaderSize+24+3] ^= 0x10; return v }},
	}
	for i, tc := range cases {
		p := ps[i]
		if err := p.Tamper(ctx, client, tc.key, tc.mutate); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		res := get(t, c, "")
		wantEntries(t, res, "a@1=alpha v1", "b@0=beta v0", "c@0=gamma v0")
		if s := state(t, res, p.Name()); s.Status != quorum.Faulty || !errors.Is(s.Err, provider.ErrValueHMAC) {
			t.Errorf("%s on %s: status %v (err %v), want faulty with a value that fails its MAC", tc.name, p.Name(), s.Status, s.Err)
		}
		// Undo, so that the next case has two honest providers besides its own.
		if err := p.Tamper(ctx, client, tc.key, func([]byte) []byte { return bytes.Clone(direct(t, ps[(i+1)%3], key, tc.key)[0].Stored) }); err != nil {
			t.Fatal(err)
		}
	}
}

// Values written in plaintext (encryption disabled, or by an earlier version)
// are an error for a client that does not read legacy plaintext, and are read
// only with Config.ReadLegacyPlaintext; a client with encryption disabled still
// reads encrypted values.
func TestLegacyPlaintextNeedsTheOption(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	key := newKey(t)
	plain := newClient(t, net, key, func(cfg *quorum.Config) { cfg.DisableEncryption = true })
	put(t, plain, kv("old/1", 0, "written in plaintext"))
	settle(t, plain)

	strict := newClient(t, net, key)
	res, err := strict.Get(ctx, "old/")
	if !errors.Is(err, envelope.ErrEnvelope) || len(res.Entries) != 0 || !strings.Contains(err.Error(), "ReadLegacyPlaintext") {
		t.Fatalf("strict get of a plaintext value: %v, %v", render(res.Entries), err)
	}
	// Not the providers' fault: they hold what the client wrote.
	for _, s := range res.Providers {
		if s.Status == quorum.Faulty {
			t.Errorf("%s named faulty for a plaintext value the client wrote", s.Name)
		}
	}

	legacy := newClient(t, net, key, func(cfg *quorum.Config) { cfg.ReadLegacyPlaintext = true })
	wantEntries(t, get(t, legacy, "old/"), "old/1@0=written in plaintext")
	put(t, legacy, kv("old/1", 1, "now encrypted"))
	settle(t, legacy)
	wantEntries(t, get(t, strict, "old/"), "old/1@1=now encrypted")
	wantEntries(t, get(t, plain, "old/"), "old/1@1=now encrypted")
}

// Audit and repair copy ciphertext and never decrypt: a client that cannot
// decrypt the values at all (they are legacy plaintext and it reads none) still
// audits a lagging provider and repairs it to identical stored bytes.
func TestAuditAndRepairNeverDecrypt(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	plain := newClient(t, net, key, func(cfg *quorum.Config) { cfg.DisableEncryption = true })
	put(t, plain, kv("k", 0, "v0"))
	settle(t, plain)
	stop(t, ps[0])
	put(t, plain, kv("k", 1, "v1"))
	settle(t, plain)
	restart(t, ps[0])

	strict := newClient(t, net, key)
	rep, err := strict.Audit(ctx, "", quorum.AuditOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if p0 := rep.Providers[0]; len(p0.Behind) != 1 || p0.Behind[0].Key != "k" {
		t.Errorf("audit: p0 = %+v, want behind on k", p0)
	}
	wantIdentical(t, net, key, "", "k@1=v1")
}

// A put retried after a failure sends a new ciphertext of the same value at the
// same version, so providers end up holding different bytes for it; the quorum
// compares the decrypted values, so that is one value, not a tie or a
// divergence, and every provider is up to date.
func TestRetriedPutIsOneValue(t *testing.T) {
	t.Parallel()
	net := startNet(t, 3)
	ps := net.Providers()
	key := newKey(t)
	c := newClient(t, net, key)

	ps[1].Cut()
	ps[2].Cut()
	if _, err := c.Put(testCtx(t), []provider.KV{kv("k", 0, "same")}); err == nil {
		t.Fatal("put with two of three providers cut succeeded")
	}
	settle(t, c)
	ps[1].Heal()
	ps[2].Heal()
	// p0 holds v0 already and refuses it; p1 and p2 make the quorum.
	put(t, c, kv("k", 0, "same"))
	settle(t, c)

	first, second := direct(t, ps[0], key, "k"), direct(t, ps[1], key, "k")
	if len(first) != 1 || len(second) != 1 || bytes.Equal(first[0].Stored, second[0].Stored) {
		t.Fatalf("p0 holds %v, p1 %v: want the same version in different bytes", render(first), render(second))
	}
	res := get(t, c, "k")
	wantEntries(t, res, "k@0=same")
	wantStatus(t, res, map[string]quorum.Status{"p0": quorum.UpToDate, "p1": quorum.UpToDate, "p2": quorum.UpToDate})
}
