package envelope

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/lssquorum/lss/proto/wire"
)

// Format is the leading byte of an envelope sealed with XChaCha20-Poly1305. A new
// algorithm or layout gets a new format byte.
const Format byte = 0xE1

// KeyID is the key id of the key derived under Label: the one Encrypt uses.
const KeyID byte = 1

// Label is the HKDF label (info) that derives the key with id KeyID from the
// client's HMAC secret; it is distinct from the labels of every MAC key.
const Label = wire.LabelValueEncryption

// HeaderSize is the length of the format byte and the key id.
const HeaderSize = 2

// Overhead is how many bytes an envelope adds to a value: header, nonce and tag.
const Overhead = HeaderSize + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// Options configure a Cipher.
type Options struct {
	// LegacyPlaintext makes Decrypt return a value that is not an envelope opening
	// under one of the Cipher's keys unchanged, as a legacy plaintext value
	// (written before encryption, or with it turned off). Without it such a value
	// is an error. See Decrypt for why this does not weaken integrity.
	LegacyPlaintext bool
}

// Cipher encrypts and decrypts values under the keys derived from one HMAC
// secret. It is safe for concurrent use.
type Cipher struct {
	// keys maps a key id to its AEAD; current is the id Encrypt uses. Rotating keys
	// later means adding an id here and moving current, old ids staying readable.
	keys    map[byte]cipher.AEAD
	current byte
	legacy  bool
}

// New returns the Cipher of a client whose value-HMAC secret is hmacSecret
// (32 bytes).
func New(hmacSecret []byte, opts Options) (*Cipher, error) {
	if len(hmacSecret) != 32 {
		return nil, fmt.Errorf("envelope: HMAC secret is %d bytes, want 32", len(hmacSecret))
	}
	aead, err := chacha20poly1305.NewX(wire.DeriveKey(hmacSecret, Label))
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return &Cipher{keys: map[byte]cipher.AEAD{KeyID: aead}, current: KeyID, legacy: opts.LegacyPlaintext}, nil
}

// LegacyPlaintext says whether Decrypt accepts legacy plaintext values.
func (c *Cipher) LegacyPlaintext() bool { return c.legacy }

// Encrypt returns the envelope of plain stored under key at version, with a fresh
// random nonce: two calls never return the same bytes.
func (c *Cipher) Encrypt(key string, version int64, plain []byte) []byte {
	out := make([]byte, HeaderSize+chacha20poly1305.NonceSizeX, len(plain)+Overhead)
	out[0], out[1] = Format, c.current
	nonce := out[HeaderSize:]
	// crypto/rand.Read never fails (it aborts the program if the system's source
	// of randomness does): a nonce is never left zero.
	rand.Read(nonce)
	return c.keys[c.current].Seal(out, nonce, plain, associatedData(out[0], out[1], key, version))
}

// Decrypt opens the envelope of the value stored under key at version and returns
// the plain value (in new memory). A value that is not an envelope of this
// Cipher's format and keys, that belongs to another key or version, or that was
// altered is an error wrapping ErrEnvelope and naming what is wrong.
//
// With Options.LegacyPlaintext, such a value is instead returned unchanged as a
// legacy plaintext value. That cannot let a forged value through that could not
// pass anyway: legacy plaintext carries no envelope tag, so reading it at all means
// relying on the value MAC that seals every stored payload, and that MAC covers
// envelopes and plaintext alike. Trying the envelope first and falling back also
// reads a legacy value that merely begins with the format byte.
func (c *Cipher) Decrypt(key string, version int64, payload []byte) ([]byte, error) {
	plain, err := c.open(key, version, payload)
	if err != nil && c.legacy {
		return append([]byte(nil), payload...), nil
	}
	return plain, err
}

// open opens payload as an envelope, with no legacy fallback.
func (c *Cipher) open(key string, version int64, payload []byte) ([]byte, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: key %q version %d: empty value, not an envelope", ErrNotEnvelope, key, version)
	}
	if payload[0] != Format {
		return nil, fmt.Errorf("%w: key %q version %d: format byte 0x%02x, want 0x%02x",
			ErrUnknownFormat, key, version, payload[0], Format)
	}
	if len(payload) < Overhead {
		return nil, fmt.Errorf("%w: key %q version %d: %d bytes, shorter than an envelope's %d",
			ErrNotEnvelope, key, version, len(payload), Overhead)
	}
	aead, ok := c.keys[payload[1]]
	if !ok {
		return nil, fmt.Errorf("%w: key %q version %d: key id %d", ErrUnknownKeyID, key, version, payload[1])
	}
	nonce := payload[HeaderSize : HeaderSize+chacha20poly1305.NonceSizeX]
	sealed := payload[HeaderSize+chacha20poly1305.NonceSizeX:]
	plain, err := aead.Open(nil, nonce, sealed, associatedData(payload[0], payload[1], key, version))
	if err != nil {
		return nil, fmt.Errorf("%w: key %q version %d (key id %d): altered, moved from another key or version, or sealed under another key",
			ErrDecrypt, key, version, payload[1])
	}
	return plain, nil
}

// associatedData is format || key id || u32 len(key) || key || version BE8: it
// binds an envelope to where it is stored, length-delimited so that no two (key,
// version) pairs encode alike.
func associatedData(format, keyID byte, key string, version int64) []byte {
	ad := make([]byte, 0, HeaderSize+4+len(key)+8)
	ad = append(ad, format, keyID)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(key)))
	ad = append(ad, key...)
	return binary.BigEndian.AppendUint64(ad, uint64(version))
}
