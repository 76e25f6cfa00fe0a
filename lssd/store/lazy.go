package store

import "context"

// LazyUpdater is an optional Backend capability: a read-write transaction whose
// writes need not be on stable storage when it returns. Store uses it for one
// thing only, the second phase of a two-phase commit (Commit); every write the
// protocol needs to survive a machine crash (Put, Prepare, Fence, Abort, Restore,
// Prune) goes through Backend.Update.
//
// Why a commit may be lazy: the prepare before it was durable, and the commit only
// turns that durable prepared record into data. If a machine crash loses the
// commit, this server comes back with the transaction prepared, its keys
// reserved, exactly as if the Commit had never arrived; the transaction was
// decided committed because it was prepared on W servers, and it still is, so
// recovery (or the coordinator settling its transactions) decides it the same way
// and commits or restores it again. Nothing a client was told becomes false: the
// quorum's evidence of the decision is the W durable prepares, not this commit.
//
// A LazyUpdater must keep everything else Update promises: the transaction is
// atomic and serializable with every other Update and UpdateLazy of the client,
// and its writes are visible to every transaction that starts after it returns.
// And it must lose writes only in order: once an Update that started after
// UpdateLazy returned is durable, the lazy writes are durable too. (Otherwise a
// later synced Put of a key could survive a crash that loses the commit that put
// the key at the version the Put built on, and Commit would later rewrite the key
// at the older version.) A single write-ahead log gives this for free: a sync
// covers every record written before it.
//
// The intended strength is "written so it survives a process crash, not
// necessarily a machine crash": the writes are handed to the operating system (or
// to the storage engine's log writer) without waiting for an fsync.
type LazyUpdater interface {
	// UpdateLazy runs fn like Backend.Update, without waiting for its writes to
	// reach stable storage.
	UpdateLazy(ctx context.Context, client []byte, fn func(Txn) error) error
}

// updateLazy runs fn with the backend's lazy update if it has one, else with its
// durable Update (which is stronger than needed, never weaker).
func (s *Store) updateLazy(ctx context.Context, client []byte, fn func(Txn) error) error {
	if l, ok := s.b.(LazyUpdater); ok {
		return l.UpdateLazy(ctx, client, fn)
	}
	return s.b.Update(ctx, client, fn)
}
