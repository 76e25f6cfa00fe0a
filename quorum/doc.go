// Package quorum keeps a client's LSS state on N independent providers and reads
// it back safely even when a minority of them lose data, roll back, lie or go away.
//
// A Client writes every Put to all N providers and treats it as acknowledged once
// W of them confirmed it (each confirmation carries a server HMAC). A Get asks all
// N, waits for R valid replies (plus a short grace so a lagging minority is still
// compared), and merges them: per key the highest version whose value HMAC
// verifies wins, because only the client can produce a valid value HMAC and so no
// provider can invent a newer version. W + R > N makes every read quorum overlap
// every write quorum, which is what makes an acknowledged Put visible to every
// later Get.
//
// Guarantees, each tested against real servers under injected faults:
//
//   - Durability: a Put that returned success is returned by every later Get while
//     at least R providers answer.
//
//   - Rollback detection: every provider's reply is compared with the merge, and a
//     provider that lags or was rolled back is named as behind (and as rolled
//     back when it lost a version it had confirmed to this client). The client
//     also keeps a watermark (the highest version acknowledged or returned per
//     key); a merged result below it, which means every answering provider
//     rolled back, is a *RollbackError and the stale data is never returned.
//     The watermark keeps, per key, the acknowledged version and the digest of
//     its value: a Put at or below it is refused before sending
//     (*BelowWatermarkError), and at one version with different values a read
//     returns the acknowledged one or fails (*TieError), never a guess. Only
//     acknowledged or W-confirmed versions raise it. Keep it across restarts
//     with Config.Watermarks (WatermarkFile); the protection is only as good as
//     where it is kept.
//
//   - Certified values (atomic mode): a transactional value is read, repaired
//     and counted only with its commit proof; one without is reported pending,
//     never returned, and its transaction recovered. Plain puts' values
//     (written before the quorum switched to atomic) are read under the plain
//     rules.
//
//   - Monotonic reads: in plain mode a version fewer than W providers hold is
//     written back to W before a read returns it, or the read fails
//     (*UnconfirmedError). In atomic mode a certified value fewer than W hold
//     (a put whose Commits are still landing) has its whole transaction settled
//     first, on the providers that answered, and is read again; if one still
//     holds it only prepared, the read fails the same way.
//
//   - Integrity: a provider whose reply fails verification (server HMAC, value
//     HMAC, keys outside the prefix, wrong server_id) is faulty; all of its data is
//     ignored and it is named.
//
//   - Convergence: Repair (or AutoRepair) copies the merged entries to behind
//     providers with the forward-only Restore extension, so with all providers up
//     they end up holding the same (key, version, value) set.
//
//   - Atomicity (atomic mode, the default when the providers speak the extension):
//     a Put is a two-phase commit. It is decided committed once W providers
//     show it prepared (or committed) under the same valid prepare seal, or a
//     valid commit proof is seen (Recover looks for one in the providers' data
//     before fencing), and aborted once fenced on N−W+1; the two
//     cannot both happen, so the live coordinator and any number of concurrent
//     Recover runs always agree. Recover and Audit count a record only if the
//     client's prepare seal verifies over its quorum and entries, and take the
//     quorum and the entries to restore only from such records: no single
//     provider's word decides anything. A provider that lies about its own
//     record (fenced to the coordinator, prepared to a recovery) can break
//     "cannot both happen"; so the client remembers the aborts it decided (in
//     the watermark store) and its recoveries never commit one of them, short
//     of a commit proof. A Put returns success, a definite failure
//     (*TxError matching ErrTxAborted: nothing was written anywhere), or an
//     indeterminate outcome (ErrIndeterminate) that Recover settles, never split.
//     Base-protocol-only providers get a plain Put once the commit is decided and
//     are named in PutResult.Weakened. In plain mode a failed Put may have reached
//     some providers; its error names them.
//
// Put returns once W providers acknowledged and leaves the other writes running
// (bounded by Config.Timeout); Settle and Close wait for them. The one hazard
// atomic mode cannot cover is a provider that rolls back its own transaction
// records and so forgets a fence; Audit reports transactions whose records
// disagree across providers.
//
// The decisions (quorum sizes, merge and classification, watermark check, repair
// plan, put outcome, the commit rule) are pure functions over per-provider results, each in its own
// file with table tests; the fan-out code only gathers those results.
package quorum
