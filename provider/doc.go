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
//     requested prefix (ErrInvalidReply otherwise) and verifies every value HMAC;
//     values that fail are never returned as data but reported by key in a
//     *TamperedError.
//   - Get uses the extension's prefix-bound BoundGet, whose HMAC also covers the
//     prefix, and falls back to the base Get for a server that does not implement
//     it (a stock Rust lssd), unless Options.RequireExtension forbids that
//     downgrade.
//
// Every error is an *Error naming the provider and the operation, and wraps one of
// the sentinel errors (ErrUnavailable, ErrConflict, ErrServerHMAC, ...) or a typed
// error (*ConflictError, *TamperedError), so callers use errors.Is and errors.As.
//
// What the protocol cannot authenticate is documented where it matters: a Put
// conflict reply carries no server HMAC, so its contents are advice, not proof.
package provider
