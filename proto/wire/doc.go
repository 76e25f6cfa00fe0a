// Package wire holds the rules that a client and a server of the LSS protocol must
// compute identically: the ECDH shared secret, the auth token, the value HMAC and
// its optional encryption, the base protocol's shared HMAC, and the extension's
// length-prefixed, domain-separated MACs.
//
// It also holds the client-side constructions of extension v2, which the server
// stores without checking: keys derived from the client's HMAC secret with HKDF
// (DeriveKey), the v2 value MAC that binds key, version, txid and payload with
// lengths (ValueMACv2), the commit proof a client issues once a transaction is
// decided committed (CommitProof), the seal authenticating a prepared record
// (PrepareSeal), the Certifier bundling those keys, and the carrier that holds a
// txid and proof inside a value on a stock provider (WrapCarrier). docs/protocol.md
// describes every layout.
//
// Everything here is a pure function over bytes. The test vectors of the protocol
// description are reproduced in the tests.
package wire
