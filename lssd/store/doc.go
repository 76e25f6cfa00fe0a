// Package store keeps an LSS server's data: each client's versioned key-values and
// its two-phase-commit transaction records.
//
// The protocol's rules (the version rule, all-or-nothing puts, reservations held by
// prepared transactions, the forward-only txid state machine, forward-only restore)
// are implemented once, in Store, over a small Backend interface that each database
// provides: an atomic, serializable read-write transaction over one client's
// namespace, and a consistent read-only snapshot. A Backend only stores bytes; it
// never decides anything. Every backend must pass the suite in store/storetest.
package store
