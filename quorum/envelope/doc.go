// Package envelope encrypts the values the quorum client stores on its providers,
// so that no provider operator (and no eavesdropper on a connection without TLS)
// reads the signer's state.
//
// A value is stored as an envelope:
//
//	format (1 byte, 0xE1) || key id (1 byte) || nonce (24 bytes) || ciphertext || tag (16 bytes)
//
// sealed with XChaCha20-Poly1305 under a key derived from the client's HMAC secret
// with HKDF-SHA256 and the label "lss-quorum value-encryption v1" (key id 1). The
// nonce is random for every write, so writing the same key and version twice (a
// retry after a conflict) never reuses a keystream, unlike the Rust client's format
// whose nonce is derived from the key and version. The associated data is
//
//	format || key id || u32 len(key) || key || version BE8
//
// so a provider cannot move a ciphertext to another key or version, or relabel it
// with another format or key id: opening it fails.
//
// The envelope is the payload that the value MAC v2 and the commit proof seal; the
// providers, audit and repair only ever handle ciphertext.
//
// The format byte and key id let a reader tell an envelope from a legacy plaintext
// value and let a later version rotate keys (a new key id) while still reading old
// envelopes. Legacy plaintext values (written before encryption, or with it turned
// off) are read only when Options.LegacyPlaintext says so.
package envelope
