package store

import (
	"context"
	"crypto/rand"
	"time"
)

// Generation names the state of one client's data and records as a paged read
// saw it: two pages read at the same Generation were read from the same state,
// so a listing whose pages all carry one Generation is one snapshot.
//
// It is 16 random bytes, kept in a record of its own (generationTxID) that every
// write changing the client's data or records (Put, Restore, Prepare, Commit,
// Abort, Fence, Prune; a call that changes nothing, such as committing a
// committed txid, does not) replaces with fresh ones in the same backend
// transaction. Fresh random bytes rather than a counter: a write sets the
// record without reading it, so writes of one client that touch different keys
// do not conflict over it on an optimistic backend (etcd); and a lazy commit
// (LazyUpdater) lost in a machine crash cannot bring back a value a page was
// read at with other contents, as a counter taken back and counted up again
// could. A client never written since the record exists has the zero value.
type Generation [16]byte

// Bytes is the Generation as sent in a reply. Clients compare it for equality
// only.
func (g Generation) Bytes() []byte { return g[:] }

// generationTxID names the record holding a client's generation. Like
// usageTxID, it is shorter than MinTxIDLen and hidden from Transactions and
// Prune.
var generationTxID = []byte("\x00lss-generation")

// newGeneration gives the client a fresh generation in tx. It writes without
// reading (see Generation).
func newGeneration(tx Txn) error {
	var g Generation
	if _, err := rand.Read(g[:]); err != nil {
		return err
	}
	return tx.SetRecord(Record{TxID: generationTxID, State: TxCommitted, Updated: time.Unix(0, 0), Seal: g[:]})
}

// generation reads the client's generation in r's snapshot.
func generation(r Reader) (Generation, error) {
	var g Generation
	rec, ok, err := r.Record(generationTxID)
	if err != nil || !ok {
		return g, err
	}
	copy(g[:], rec.Seal)
	return g, nil
}

// Generation returns the client's current generation (see Generation).
func (s *Store) Generation(ctx context.Context, client []byte) (Generation, error) {
	var g Generation
	err := s.b.View(ctx, client, func(r Reader) (err error) {
		g, err = generation(r)
		return err
	})
	return g, err
}
