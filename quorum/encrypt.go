package quorum

import (
	"fmt"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum/envelope"
)

// The quorum client encrypts every value it writes (quorum/envelope:
// XChaCha20-Poly1305, a random nonce per write, the key and version as associated
// data) at one place, seal, just before the value MAC; and decrypts at one place,
// gather, just after a provider's reply has verified. In between, an Entry's
// Stored is the ciphertext with its MAC, which is what is sent, stored, compared
// across providers, restored by repair and recovery; its Value is the plaintext,
// which is what the watermark digests and what a caller re-puts. A provider never
// holds a plaintext, and audit and repair need no decryption to succeed.

// newCipher is the client's value cipher. A client that writes plaintext
// (Config.DisableEncryption) must read its own values back, so it reads legacy
// plaintext too; it still decrypts the envelopes it finds.
func newCipher(cfg Config) (*envelope.Cipher, error) {
	legacy := cfg.ReadLegacyPlaintext || cfg.DisableEncryption
	c, err := envelope.New(cfg.HMACSecret, envelope.Options{LegacyPlaintext: legacy})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return c, nil
}

// encrypt returns the payload seal puts under the value MAC: kv's value in an
// envelope with a fresh nonce (so a retried put of the same value sends another
// ciphertext), or the value itself with encryption disabled.
func (c *Client) encrypt(kv provider.KV) []byte {
	if c.cfg.DisableEncryption {
		return kv.Value
	}
	return c.cipher.Encrypt(kv.Key, kv.Version, kv.Value)
}

// openFailure is a value of a verified reply that did not decrypt.
type openFailure struct {
	version int64
	err     error
}

// openValues decrypts, in place, the Value of each entry of a verified reply;
// Stored is left as it is. A value that does not decrypt keeps its payload as
// Value and is listed in the result by key. It has passed the value MAC, which
// only this client can compute, so it is no provider's forgery: it was written
// in plaintext (before encryption, or with it disabled) or under a key this
// client lacks. Audit and repair go on with it; Get refuses to return it.
func (c *Client) openValues(es []provider.Entry) map[string]openFailure {
	var failed map[string]openFailure
	for i, e := range es {
		plain, err := c.cipher.Decrypt(e.Key, e.Version, e.Value)
		if err != nil {
			if failed == nil {
				failed = make(map[string]openFailure)
			}
			failed[e.Key] = openFailure{version: e.Version, err: err}
			continue
		}
		es[i].Value = plain
	}
	return failed
}

// checkOpened returns an error if a merged entry is one that some valid reply
// could not decrypt: Get returns no value it could not decrypt.
func checkOpened(replies []reply, merged []provider.Entry) error {
	for _, e := range merged {
		for _, r := range replies {
			if f, ok := r.unopened[e.Key]; ok && r.err == nil && f.version == e.Version {
				return fmt.Errorf("quorum get: %w (a value written without encryption needs Config.ReadLegacyPlaintext)", f.err)
			}
		}
	}
	return nil
}

// openConflicts decrypts, in place, the stored values reported by the conflicts
// in a put's error, so that a caller sees plaintext there as in a Get. A value
// that does not decrypt is left nil, as one whose MAC fails is (Stored keeps the
// bytes).
func (c *Client) openConflicts(err error) {
	seen := map[*provider.ConflictError]bool{}
	walkErrors(err, func(e error) {
		ce, ok := e.(*provider.ConflictError)
		if !ok || seen[ce] {
			return
		}
		seen[ce] = true
		for i, cf := range ce.Conflicts {
			if cf.Value == nil {
				continue
			}
			plain, err := c.cipher.Decrypt(cf.Key, cf.Version, cf.Value)
			if err != nil {
				plain = nil
			}
			ce.Conflicts[i].Value = plain
		}
	})
}

// walkErrors calls fn on err and on every error it wraps, depth first.
func walkErrors(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			walkErrors(e, fn)
		}
	case interface{ Unwrap() error }:
		walkErrors(x.Unwrap(), fn)
	}
}
