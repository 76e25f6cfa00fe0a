// Package etcd is a store.Backend on an etcd cluster, so that several stateless
// lssd front-ends can serve one replicated, fault-tolerant store.
//
// Layout, under a prefix ("lss/" by default): "<prefix>schema" holds the layout
// version; each client's namespace is "<prefix><hex client id>/", holding "d/<key>"
// (the key's value and version, and the txid of a prepared transaction reserving
// it, in one etcd key so that a commit touching both costs one operation),
// "t/<txid>" (transaction records) and "seq" (rewritten by every committing
// update). Keys are raw bytes, so prefix reads and orders are byte for byte.
//
// Guarantees: an Update is an optimistic transaction. Its reads are taken at one
// revision, recording each key's mod revision; its writes are buffered and applied
// by one etcd Txn that first compares every key read against the recorded
// revision (or, when it read a whole range, that "seq" has not moved since), so it
// commits only if nothing it read has changed: updates are serializable, and two
// front-ends racing puts on one key and version never both succeed. A losing
// Update is run again, a bounded number of times. An etcd commit is durable: it is
// in the raft log on a majority of members, each of which fsyncs it, before the
// Txn returns. A View reads at one revision, so it sees one snapshot.
//
// Limits: one Update is one etcd Txn, so a put or prepare of n keys needs about n
// comparisons and up to n+4 operations (the keys, a transaction record, the
// client's usage and generation records, "seq"), and must fit the cluster's
// --max-txn-ops (default 128) and --max-request-bytes (default 1.5 MiB); raise them
// for large puts.
package etcd
