// Package provider is a client for one LSS server (a "provider" of a quorum).
//
// A Client keeps one gRPC connection, reused by every call, and the shared secret
// derived once at Dial from the server's pinned server_id. It guarantees that
// nothing it returns as data is unauthenticated:
//
//   - Dial checks the server_id returned by Info against the pinned one.
//   - Every reply HMAC of the base protocol and of the quorum extension is
//     verified; a mismatch is ErrServerHMAC.
//   - Get checks that the returned keys are ascending, distinct and under the
//     requested prefix (ErrInvalidReply otherwise) and verifies every value;
//     values that fail are never returned as data but reported by key in a
//     *TamperedError.
//   - Whether the server speaks the extension is pinned (Options.Extension),
//     never learned from a status code. A pinned server is read with the
//     prefix-bound BoundGet, and its UNIMPLEMENTED answer to any extension call
//     is ErrNotExtension (a protocol violation: the provider is faulty), never a
//     fallback to the base Get, whose HMAC does not cover the prefix. A server
//     not pinned is read and written with the base protocol only.
//
// Two value formats (Options.Format). FormatRust is lss-cli's and the Rust
// client's: value HMAC over key || version || value, optionally ChaCha20. In
// FormatQuorum the value MAC v2 length-delimits key and payload and binds the txid
// that wrote the value, and a value may carry the client's commit proof, issued
// once its transaction was decided committed; every read checks both (Entry.TxID,
// Entry.Proof, Entry.Certified), so a provider can neither move a value to
// another key or transaction nor pass a prepared value off as committed. On a
// server not pinned as an extension server, the quorum format stores the txid and
// proof inside each value (a carrier, wire.WrapCarrier), so callers see the same
// entries from every provider. docs/protocol.md describes the layouts.
//
// Every error is an *Error naming the provider and the operation, and wraps one of
// the sentinel errors (ErrUnavailable, ErrConflict, ErrServerHMAC, ...) or a typed
// error (*ConflictError, *TamperedError), so callers use errors.Is and errors.As.
//
// What the protocol cannot authenticate is documented where it matters: a Put
// conflict reply carries no server HMAC, so its contents are advice, not proof.
package provider
