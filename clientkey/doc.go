// Package clientkey keeps an LSS client's identity on disk: its secp256k1 private
// key and the public key (server_id) of the server it pinned.
//
// The layout is the Rust lss-cli's, so the two tools can share a directory
// (default ~/.lss): "client-key" holds the 32-byte private key as hex and
// "server-pubkey" the 33-byte compressed server public key as hex, both without a
// trailing newline (the Rust tool does not accept one; this package accepts
// surrounding whitespace when reading).
//
// Guarantees: a key file is created with mode 0600 by writing a temporary file,
// fsyncing it and linking it into place, so a crash never leaves a partial key and
// an existing file is never replaced, not even by a concurrent creator. A file
// that exists but does not hold a valid key is an error (ErrCorrupt), never a
// reason to create a new key: a new client key would orphan every value stored
// under the old one. A pinned server key is only ever written once; a server that
// later presents another key is refused (ErrServerKeyChanged).
package clientkey
