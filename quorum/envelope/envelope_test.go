package envelope

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/lssquorum/lss/proto/wire"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func newCipher(t testing.TB, s []byte, opts Options) *Cipher {
	t.Helper()
	c, err := New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The vectors were computed independently (Python: HKDF from hmac/hashlib,
// HChaCha20 by hand, checked against the XChaCha20-Poly1305 draft's test vector,
// then ChaCha20-Poly1305 from the cryptography package).
func TestVectors(t *testing.T) {
	if got := hex.EncodeToString(wire.DeriveKey(secret(0x11), Label)); got != "e3259693edb794cc057fa4cddb25bdd461c3d45ae16b17c494695b6e78acd2f6" {
		t.Fatalf("derived key %s", got)
	}
	env, _ := hex.DecodeString("e101000102030405060708090a0b0c0d0e0f10111213141516170a6107e4d1db97ca1d394371517d37ca4f")
	plain, err := newCipher(t, secret(0x11), Options{}).Decrypt("xx1", 7, env)
	if err != nil || !bytes.Equal(plain, []byte{0x11}) {
		t.Fatalf("vector opens to %x, %v; want 11", plain, err)
	}
}

func TestRoundTrip(t *testing.T) {
	c := newCipher(t, secret(1), Options{})
	for _, plain := range [][]byte{{}, {0}, []byte("channel state"), bytes.Repeat([]byte{0xAB}, 64<<10)} {
		env := c.Encrypt("chan/1", 42, plain)
		if len(env) != len(plain)+Overhead || env[0] != Format || env[1] != KeyID {
			t.Fatalf("envelope of %d bytes: %d bytes, header %x", len(plain), len(env), env[:2])
		}
		if len(plain) > 4 && bytes.Contains(env, plain[:len(plain)/2]) {
			t.Fatalf("envelope contains the plaintext")
		}
		got, err := c.Decrypt("chan/1", 42, env)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip of %d bytes: %d bytes, %v", len(plain), len(got), err)
		}
	}
}

// An envelope read under any other key or version fails, including pairs whose
// naive concatenation key||version would collide.
func TestMovedIsRejected(t *testing.T) {
	c := newCipher(t, secret(1), Options{})
	env := c.Encrypt("ab", 1, []byte("v"))
	for _, at := range []struct {
		key     string
		version int64
	}{{"ab", 2}, {"ab", 0}, {"ab", -1}, {"ac", 1}, {"a", 1}, {"abc", 1}, {"", 1}, {"ab\x00", 1}} {
		if _, err := c.Decrypt(at.key, at.version, env); !errors.Is(err, ErrDecrypt) {
			t.Errorf("moved to %q v%d: %v, want ErrDecrypt", at.key, at.version, err)
		}
	}
}

// Flipping any single bit of an envelope makes it fail, with the error saying
// which part is wrong.
func TestBitFlips(t *testing.T) {
	c := newCipher(t, secret(1), Options{})
	env := c.Encrypt("k", 3, []byte("some value"))
	for i := range len(env) * 8 {
		bad := bytes.Clone(env)
		bad[i/8] ^= 1 << (i % 8)
		_, err := c.Decrypt("k", 3, bad)
		want := ErrDecrypt
		switch i / 8 {
		case 0:
			want = ErrUnknownFormat
		case 1:
			want = ErrUnknownKeyID
		}
		if !errors.Is(err, want) {
			t.Fatalf("bit %d flipped: %v, want %v", i, err, want)
		}
	}
	for _, cut := range []int{0, 1, Overhead - 1, len(env) - 1} {
		if _, err := c.Decrypt("k", 3, env[:cut]); !errors.Is(err, ErrEnvelope) {
			t.Errorf("truncated to %d bytes: %v", cut, err)
		}
	}
	if _, err := c.Decrypt("k", 3, append(bytes.Clone(env), 0)); !errors.Is(err, ErrDecrypt) {
		t.Errorf("one byte appended: %v", err)
	}
}

func TestFreshNoncePerWrite(t *testing.T) {
	c := newCipher(t, secret(1), Options{})
	seen := map[string]bool{}
	for range 100 {
		env := c.Encrypt("k", 1, []byte("same plaintext"))
		if seen[string(env)] {
			t.Fatal("two writes of the same plaintext at the same key and version gave the same envelope")
		}
		seen[string(env)] = true
		nonce := env[HeaderSize : HeaderSize+24]
		if seen["nonce"+string(nonce)] {
			t.Fatal("nonce repeated")
		}
		seen["nonce"+string(nonce)] = true
	}
}

func TestUnknownFormatAndKeyID(t *testing.T) {
	c := newCipher(t, secret(1), Options{})
	env := c.Encrypt("k", 1, []byte("x"))

	other := bytes.Clone(env)
	other[0] = 0xE2
	_, err := c.Decrypt("k", 1, other)
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "format byte 0xe2, want 0xe1") || !strings.Contains(err.Error(), `key "k" version 1`) {
		t.Errorf("unknown format: %v", err)
	}
	other = bytes.Clone(env)
	other[1] = 9
	_, err = c.Decrypt("k", 1, other)
	if !errors.Is(err, ErrUnknownKeyID) || !strings.Contains(err.Error(), "key id 9") {
		t.Errorf("unknown key id: %v", err)
	}
	if _, err := c.Decrypt("k", 1, nil); !errors.Is(err, ErrNotEnvelope) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty value: %v", err)
	}
}

// An envelope of another client (another HMAC secret, so another derived key)
// does not open.
func TestWrongKey(t *testing.T) {
	env := newCipher(t, secret(1), Options{}).Encrypt("k", 1, []byte("x"))
	_, err := newCipher(t, secret(2), Options{}).Decrypt("k", 1, env)
	if !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("other client's envelope: %v", err)
	}
	// With legacy reading on, it is not an error, but the ciphertext is what comes
	// back, never a plaintext.
	got, err := newCipher(t, secret(2), Options{LegacyPlaintext: true}).Decrypt("k", 1, env)
	if err != nil || !bytes.Equal(got, env) {
		t.Fatalf("legacy reading of another client's envelope: %x, %v", got, err)
	}
}

func TestLegacyPlaintextNeedsTheOption(t *testing.T) {
	strict := newCipher(t, secret(1), Options{})
	legacy := newCipher(t, secret(1), Options{LegacyPlaintext: true})
	if strict.LegacyPlaintext() || !legacy.LegacyPlaintext() {
		t.Fatal("LegacyPlaintext reports the wrong option")
	}
	// A legacy value, one that begins with the format byte and key id, and an
	// empty one.
	lookalike := append([]byte{Format, KeyID}, bytes.Repeat([]byte{7}, 60)...)
	for _, plain := range [][]byte{[]byte("old plaintext"), lookalike, {}} {
		if _, err := strict.Decrypt("k", 1, plain); !errors.Is(err, ErrEnvelope) {
			t.Errorf("strict reading of plaintext %x: %v", plain, err)
		}
		got, err := legacy.Decrypt("k", 1, plain)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("legacy reading of %x: %x, %v", plain, got, err)
		}
	}
	// Envelopes still decrypt with legacy reading on.
	got, err := legacy.Decrypt("k", 1, strict.Encrypt("k", 1, []byte("new")))
	if err != nil || string(got) != "new" {
		t.Fatalf("envelope with legacy reading on: %q, %v", got, err)
	}
}

func TestNewRefusesBadSecret(t *testing.T) {
	for _, n := range []int{0, 16, 33} {
		if _, err := New(make([]byte, n), Options{}); err == nil || !strings.Contains(err.Error(), "want 32") {
			t.Errorf("secret of %d bytes: %v", n, err)
		}
	}
}

// The key used is derived under its own label, never the HMAC secret itself nor
// the key of a MAC.
func TestKeyIsDerived(t *testing.T) {
	s := secret(3)
	if Label != "lss-quorum value-encryption v1" {
		t.Fatalf("label %q", Label)
	}
	if k := wire.DeriveKey(s, Label); bytes.Equal(k, s) || bytes.Equal(k, wire.DeriveKey(s, wire.LabelValueMACv2)) {
		t.Fatal("the encryption key is not separated from the secret or the MAC key")
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newCipher(t, secret(1), Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				plain := []byte{byte(g), byte(i)}
				got, err := c.Decrypt("k", int64(i), c.Encrypt("k", int64(i), plain))
				if err != nil || !bytes.Equal(got, plain) {
					t.Errorf("goroutine %d: %x, %v", g, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
