package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20"
)

// ValueHMACSize is the length of the value HMAC appended to every stored value.
const ValueHMACSize = sha256.Size

// ErrValueHMAC is returned when a stored value's HMAC does not verify: the value was
// forged, tampered with, or stored under another key or version.
var ErrValueHMAC = errors.New("value HMAC mismatch")

// ValueMAC computes value HMACs under one secret, reusing one HMAC state and one
// buffer: sealing or opening the many values of a put or a get allocates little.
// It is not safe for concurrent use.
type ValueMAC struct {
	mac hash.Hash
	buf []byte
}

// NewValueMAC returns a ValueMAC keyed with hmacSecret.
func NewValueMAC(hmacSecret []byte) *ValueMAC {
	return &ValueMAC{mac: hmac.New(sha256.New, hmacSecret)}
}

// sum appends HMAC(key || version BE8 || plain) to dst.
func (v *ValueMAC) sum(dst []byte, key string, version int64, plain []byte) []byte {
	v.mac.Reset()
	v.buf = binary.BigEndian.AppendUint64(append(v.buf[:0], key...), uint64(version))
	v.mac.Write(v.buf)
	v.mac.Write(plain)
	return v.mac.Sum(dst)
}

// Seal returns plain || value HMAC, the stored form of a value.
func (v *ValueMAC) Seal(key string, version int64, plain []byte) []byte {
	out := make([]byte, 0, len(plain)+ValueHMACSize)
	return v.sum(append(out, plain...), key, version, plain)
}

// Open checks and strips the value HMAC of a stored value. The returned plain
// value shares stored's memory.
func (v *ValueMAC) Open(key string, version int64, stored []byte) ([]byte, error) {
	if len(stored) < ValueHMACSize {
		return nil, fmt.Errorf("%w: key %q version %d: value of %d bytes is shorter than its HMAC",
			ErrValueHMAC, key, version, len(stored))
	}
	plain, got := stored[:len(stored)-ValueHMACSize], stored[len(stored)-ValueHMACSize:]
	var want [ValueHMACSize]byte
	if !hmac.Equal(got, v.sum(want[:0], key, version, plain)) {
		return nil, fmt.Errorf("%w: key %q version %d", ErrValueHMAC, key, version)
	}
	return plain, nil
}

// ValueHMAC is HMAC-SHA256(hmacSecret, key || version BE8 || plain). Only the
// client computes it; the server stores it without checking.
func ValueHMAC(hmacSecret []byte, key string, version int64, plain []byte) []byte {
	return NewValueMAC(hmacSecret).sum(nil, key, version, plain)
}

// SealValue returns plain || ValueHMAC, the stored form of a value.
func SealValue(hmacSecret []byte, key string, version int64, plain []byte) []byte {
	return NewValueMAC(hmacSecret).Seal(key, version, plain)
}

// OpenValue checks and strips the value HMAC of a stored value.
func OpenValue(hmacSecret []byte, key string, version int64, stored []byte) ([]byte, error) {
	return NewValueMAC(hmacSecret).Open(key, version, stored)
}

// XORKeystream applies the Rust client's value encryption (its default "crypt"
// feature) to data in place and returns it: ChaCha20 (RFC 8439, block counter 0)
// keyed by hmacSecret, with nonce = first 12 bytes of SHA256(key || version BE8).
// Encryption and decryption are the same operation.
//
// The nonce depends only on (key, version), so two different values written for the
// same key and version reuse the keystream; that weakness is the Rust client's, kept
// here for compatibility.
func XORKeystream(hmacSecret []byte, key string, version int64, data []byte) []byte {
	h := sha256.New()
	h.Write([]byte(key))
	h.Write(be64(version))
	nonce := h.Sum(nil)[:chacha20.NonceSize]
	c, err := chacha20.NewUnauthenticatedCipher(hmacSecret, nonce)
	if err != nil {
		// Only reachable with a secret that is not 32 bytes: a programming error.
		panic(fmt.Sprintf("wire: value cipher: %v", err))
	}
	c.XORKeyStream(data, data)
	return data
}

// EncryptValue returns the stored form written by the Rust client by default:
// ChaCha20(plain || ValueHMAC).
func EncryptValue(hmacSecret []byte, key string, version int64, plain []byte) []byte {
	return XORKeystream(hmacSecret, key, version, SealValue(hmacSecret, key, version, plain))
}

// DecryptValue reverses EncryptValue: decrypts, then checks and strips the HMAC.
func DecryptValue(hmacSecret []byte, key string, version int64, stored []byte) ([]byte, error) {
	clear := XORKeystream(hmacSecret, key, version, append([]byte(nil), stored...))
	return OpenValue(hmacSecret, key, version, clear)
}

func be64(v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return b[:]
}
