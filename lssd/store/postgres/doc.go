// Package postgres is a store.Backend on PostgreSQL (or anything speaking its
// protocol), so that several stateless lssd front-ends can serve one database.
//
// Guarantees: every Update is one SERIALIZABLE transaction, so two front-ends
// racing puts on the same key and version never both succeed (the loser's
// transaction fails to serialize and is retried, a bounded number of times, and
// then sees the winner's write as a conflict). It returns after COMMIT, which with
// PostgreSQL's default synchronous_commit=on means the writes are flushed to the
// write-ahead log. Every View is one REPEATABLE READ READ ONLY transaction, so it
// reads one snapshot. Keys, client ids and txids are bytea, compared byte for byte.
//
// Open creates the tables, or migrates them from an older layout, in one
// transaction; it refuses a database whose layout is newer than this code knows.
package postgres
