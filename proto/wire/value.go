package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20"
)

// ValueHMACSize is the length of the value HMAC appended to every stored value.
const ValueHMACSize = sha256.Size

// ErrValueHMAC is returned when a stored value's HMAC does not verify: the value was
// forged, tampered with, or stored under another key or version.
var ErrValueHMAC = errors.New("value HMAC mismatch")

// ValueHMAC is HMAC-SHA256(hmacSecret, key || version BE8 || plain). Only the
// client computes it; the server stores it without checking.
func ValueHMAC(hmacSecret []byte, key string, version int64, plain []byte) []byte {
	mac := hmac.New(sha256.New, hmacSecret)
	mac.Write([]byte(key))
	mac.Write(be64(version))
	mac.Write(plain)
	return mac.Sum(nil)
}

// SealValue returns plain || ValueHMAC, the stored form of a value.
func SealValue(hmacSecret []byte, key string, version int64, plain []byte) []byte {
	out := make([]byte, 0, len(plain)+ValueHMACSize)
	out = append(out, plain...)
	return append(out, ValueHMAC(hmacSecret, key, version, plain)...)
}

// OpenValue checks and strips the value HMAC of a stored value.
func OpenValue(hmacSecret []byte, key string, version int64, stored []byte) ([]byte, error) {
	if len(stored) < ValueHMACSize {
		return nil, fmt.Errorf("%w: key %q version %d: value of %d bytes is shorter than its HMAC",
			ErrValueHMAC, key, version, len(stored))
	}
	plain, got := stored[:len(stored)-ValueHMACSize], stored[len(stored)-ValueHMACSize:]
	if !hmac.Equal(got, ValueHMAC(hmacSecret, key, version, plain)) {
		return nil, fmt.Errorf("%w: key %q version %d", ErrValueHMAC, key, version)
	}
	return plain, nil
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
