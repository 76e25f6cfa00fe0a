package provider

import (
	"bytes"
	"errors"
	"testing"

	"github.com/lssquorum/lss/proto/wire"
)

func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	for _, encrypt := range []bool{false, true} {
		key := newKey(t)
		c := dialT(t, d.Addr(), d.ServerID(), key, encrypt)
		kvs := []KV{{"b/2", 0, []byte("two")}, {"a/1", 0, []byte("one")}, {"b/1", 0, nil}}
		if err := c.Put(ctxT(t), kvs); err != nil {
			t.Fatalf("encrypt=%v: Put: %v", encrypt, err)
		}
		got, err := c.Get(ctxT(t), "b/")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		checkEntries(t, got, KV{"b/1", 0, nil}, KV{"b/2", 0, []byte("two")})
		if c.BaseOnly() {
			t.Error("client fell back to the base Get against a full server")
		}

		// Stored is exactly what Seal produces: the value HMAC, encrypted or not.
		sealed := c.Seal([]KV{{"b/2", 0, []byte("two")}})[0].Stored
		if !bytes.Equal(got[1].Stored, sealed) {
			t.Errorf("stored %x, want sealed %x", got[1].Stored, sealed)
		}
		secret := wire.CLIHMACSecret(key)
		want := wire.SealValue(secret[:], "b/2", 0, []byte("two"))
		if encrypt {
			want = wire.EncryptValue(secret[:], "b/2", 0, []byte("two"))
		}
		if !bytes.Equal(sealed, want) {
			t.Errorf("encrypt=%v: sealed %x, want %x", encrypt, sealed, want)
		}

		all, err := c.Get(ctxT(t), "")
		if err != nil || len(all) != 3 || all[0].Key != "a/1" {
			t.Errorf("Get all = %v, %v", keysOf(all), err)
		}
		none, err := c.Get(ctxT(t), "zz")
		if err != nil || len(none) != 0 {
			t.Errorf("Get zz = %v, %v", keysOf(none), err)
		}

		// The next version replaces the value.
		if err := c.Put(ctxT(t), []KV{{"a/1", 1, []byte("uno")}}); err != nil {
			t.Fatal(err)
		}
		got, err = c.Get(ctxT(t), "a/")
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, got, KV{"a/1", 1, []byte("uno")})
	}
}

func TestSealIsDeterministicAndKeepsOrder(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	key := newKey(t)
	c1 := dialT(t, d.Addr(), d.ServerID(), key, true)
	c2 := dialT(t, d.Addr(), d.ServerID(), key, true)
	kvs := []KV{{"z", 3, []byte{1}}, {"a", 0, []byte{2}}}
	s1, s2 := c1.Seal(kvs), c2.Seal(kvs)
	for i := range kvs {
		if s1[i].Key != kvs[i].Key || !bytes.Equal(s1[i].Stored, s2[i].Stored) || !bytes.Equal(s1[i].Value, kvs[i].Value) {
			t.Errorf("Seal entry %d differs: %+v vs %+v", i, s1[i], s2[i])
		}
	}
}

func TestHMACSecretOption(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	key := newKey(t)
	custom := bytes.Repeat([]byte{7}, 32)
	c := dialT(t, d.Addr(), d.ServerID(), key, false)
	other, err := Dial(ctxT(t), Options{Addr: d.Addr(), Name: "p1", ServerID: d.ServerID(), ClientKey: key, HMACSecret: custom})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Put(ctxT(t), []KV{{"k", 0, []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	got, err := other.Get(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, KV{"k", 0, []byte("v")})
	if !bytes.Equal(got[0].Stored, wire.SealValue(custom, "k", 0, []byte("v"))) {
		t.Error("value not sealed with the configured HMAC secret")
	}
	// The same namespace read with the default secret: the value does not verify.
	got, err = c.Get(ctxT(t), "")
	var te *TamperedError
	if !errors.As(err, &te) || len(got) != 0 {
		t.Errorf("reading with another HMAC secret: %v, %d entries; want a TamperedError", err, len(got))
	}
}

func TestPutConflict(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, d.Addr(), d.ServerID(), newKey(t), true)
	if err := c.Put(ctxT(t), []KV{{"xx1", 0, []byte{0x11}}}); err != nil {
		t.Fatal(err)
	}
	err := c.Put(ctxT(t), []KV{{"xx1", 0, []byte{0x22}}, {"xx2", 1, []byte{0x33}}})
	wantProviderError(t, err, "put", ErrConflict)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ConflictError", err)
	}
	if ce.Provider != "p1" || len(ce.Conflicts) != 2 {
		t.Fatalf("conflicts = %+v", ce)
	}
	first, second := ce.Conflicts[0], ce.Conflicts[1]
	if first.Key != "xx1" || first.Version != 0 || !bytes.Equal(first.Value, []byte{0x11}) || len(first.Stored) == 0 {
		t.Errorf("conflict on xx1 = %+v, want stored version 0 value 11", first)
	}
	if second.Key != "xx2" || second.Version != -1 || second.Value != nil {
		t.Errorf("conflict on absent xx2 = %+v, want version -1 and no value", second)
	}
	// Nothing was written.
	got, err := c.Get(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, KV{"xx1", 0, []byte{0x11}})
}

func TestPutRefusesDuplicateKeysLocally(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, d.Addr(), d.ServerID(), newKey(t), false)
	err := c.Put(ctxT(t), []KV{{"k", 0, nil}, {"k", 0, []byte{1}}})
	wantProviderError(t, err, "put", nil)
	if err == nil || errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want a duplicate-key error", err)
	}
	if got, _ := c.Get(ctxT(t), ""); len(got) != 0 {
		t.Error("something was written")
	}
}

func TestNamespacesAreSeparate(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	a := dialT(t, d.Addr(), d.ServerID(), newKey(t), false)
	b := dialT(t, d.Addr(), d.ServerID(), newKey(t), false)
	if err := a.Put(ctxT(t), []KV{{"k", 0, []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctxT(t), "")
	if err != nil || len(got) != 0 {
		t.Errorf("other client sees %v, %v", keysOf(got), err)
	}
	if err := b.Put(ctxT(t), []KV{{"k", 0, []byte("b")}}); err != nil {
		t.Errorf("other client's put of the same key: %v", err)
	}
}

func TestRestoreIsForwardOnly(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, d.Addr(), d.ServerID(), newKey(t), false)
	if err := c.Put(ctxT(t), []KV{{"a", 0, []byte("a0")}, {"b", 0, []byte("b0")}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctxT(t), []KV{{"b", 1, []byte("b1")}}); err != nil {
		t.Fatal(err)
	}
	// a: 0 → 5 (gap allowed); b: stored 1, restore 0 → kept; c: absent → applied.
	es := c.Seal([]KV{{"c", 2, []byte("c2")}, {"b", 0, []byte("b0")}, {"a", 5, []byte("a5")}})
	applied, kept, err := c.Restore(ctxT(t), es)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 2 || applied[0] != "a" || applied[1] != "c" {
		t.Errorf("applied = %v, want [a c]", applied)
	}
	if len(kept) != 1 || kept[0].Key != "b" || kept[0].Version != 1 || !bytes.Equal(kept[0].Value, []byte("b1")) {
		t.Errorf("kept = %+v, want b at version 1", kept)
	}
	got, err := c.Get(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, KV{"a", 5, []byte("a5")}, KV{"b", 1, []byte("b1")}, KV{"c", 2, []byte("c2")})
}
