package provider

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/lssd"
)

// startServer runs a real lssd on a random 127.0.0.1 port with an in-memory store
// and stops it when the test ends.
func startServer(t testing.TB, baseOnly bool, edits ...func(*lssd.Options)) *lssd.Daemon {
	t.Helper()
	opts := lssd.DefaultOptions()
	opts.Port = 0
	opts.DataDir = t.TempDir()
	opts.Database = "memory"
	opts.BaseOnly = baseOnly
	for _, edit := range edits {
		edit(&opts)
	}
	d, err := lssd.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("lssd.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("lssd Stop: %v", err)
		}
	})
	return d
}

// newKey returns a fresh client key.
func newKey(t testing.TB) *secp256k1.PrivateKey {
	t.Helper()
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dialT dials addr with the pinned serverID, pinned as an extension server (a
// real lssd), and closes the client at the end.
func dialT(t *testing.T, addr string, serverID []byte, key *secp256k1.PrivateKey, encrypt bool) *Client {
	t.Helper()
	return dialOpts(t, Options{Addr: addr, ServerID: serverID, ClientKey: key, Encrypt: encrypt, Extension: true})
}

// dialOpts dials with o (named "p1", a short dial timeout) and closes the client
// at the end.
func dialOpts(t testing.TB, o Options) *Client {
	t.Helper()
	o.Name, o.DialTimeout = "p1", 5*time.Second
	c, err := Dial(ctxT(t), o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ctxT is a per-call context bounded well below the test timeout.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// txid returns a fresh random transaction id.
func txid(t testing.TB) []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// wantProviderError checks that err names provider "p1" and op, and wraps target.
func wantProviderError(t *testing.T, err error, op string, target error) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *provider.Error", err, err)
	}
	if pe.Provider != "p1" || pe.Op != op {
		t.Errorf("error names provider %q op %q, want p1 %s: %v", pe.Provider, pe.Op, op, err)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("err = %v, want errors.Is %v", err, target)
	}
}

// checkEntries compares entries with want (plain values) by key, version, value.
func checkEntries(t *testing.T, got []Entry, want ...KV) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries %v, want %d", len(got), keysOf(got), len(want))
	}
	for i := range want {
		if got[i].Key != want[i].Key || got[i].Version != want[i].Version || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Errorf("entry %d = %q v%d %x, want %q v%d %x", i, got[i].Key, got[i].Version, got[i].Value,
				want[i].Key, want[i].Version, want[i].Value)
		}
	}
}

func keysOf(es []Entry) []string {
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.Key
	}
	return keys
}
