// Package lssd is the Lightning Storage Service server: a gRPC service speaking the
// LSS protocol byte for byte (Ping, Info, Put, Get), plus this project's quorum
// extension (BoundGet, Restore, Prepare, Commit, Fence, Abort, Status), over a
// store.Store. Daemon runs it: server key, store, listener, optional TLS, and the
// background pruning of decided transaction records.
//
// Guarantees:
//
//   - Durable before success: a Put, Restore, Prepare, Commit, Fence or Abort is
//     answered only after the store has committed it to stable storage (fsync for
//     the embedded database); a reply with success (and its server HMAC) means the
//     write survives a crash.
//   - All or nothing: a Put or Prepare that fails any check writes nothing.
//   - Check order, for every request that carries key-values (the first failure
//     decides the status): auth missing → INVALID_ARGUMENT; keys not in strictly
//     ascending byte order (a duplicate included) → INVALID_ARGUMENT; a request over
//     a limit (keys per request, key length, value size) → INVALID_ARGUMENT naming the
//     limit; a txid not 16 to 64 bytes → INVALID_ARGUMENT; client_id not a valid
//     compressed public key (an empty Auth included) → UNAUTHENTICATED; token not
//     SHA256(shared secret) → INVALID_ARGUMENT; request HMAC wrong →
//     INVALID_ARGUMENT. Only then is the store touched. A request message larger than
//     the message-size limit is refused by gRPC itself with RESOURCE_EXHAUSTED.
//   - Version conflicts are not errors: Put answers success=false, an empty hmac,
//     and one conflict per conflicting key in request order (stored version, -1 if
//     absent, and stored value); keys held by a prepared transaction are also
//     listed in reservations with the txid.
//   - Get and BoundGet read one snapshot, in ascending key order, prefix matched
//     byte for byte; the nonce may have any length.
//   - Transaction records move only forward (docs/design.md): an unknown txid on Commit
//     is NOT_FOUND; Commit of an aborted txid, Abort of a committed one and Prepare
//     of a prepared txid with other writes are FAILED_PRECONDITION, each naming the
//     txid. Prepare of an aborted (fenced) txid answers normally with TX_ABORTED.
//   - Each client_id is its own namespace; no request reaches another's data.
//   - The server key is created once in the data directory and never replaced; a
//     damaged key file stops the server from starting.
//
// With BaseOnly the server behaves as a stock server: every extension RPC answers
// UNIMPLEMENTED.
package lssd
