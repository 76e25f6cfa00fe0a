package bolt

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

// Stats is a snapshot of what the file holds, across every client, for metrics.
type Stats struct {
	// Clients is the number of client namespaces.
	Clients int
	// Prepared counts transactions prepared and not yet decided.
	Prepared int
	// Reservations counts keys held by prepared transactions.
	Reservations int
	// Records counts transaction records of every state.
	Records int
	// Bytes is the size of the database as a backup would copy it.
	Bytes int64
}

// Stats reads Stats from one read transaction. It walks every client's records
// (decided ones are pruned after the retention) and counts reservations from
// bolt's page statistics, so its cost grows with the number of open transactions,
// not with the data.
func (b *Backend) Stats(ctx context.Context) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	if !b.enter() {
		return Stats{}, store.ErrClosed
	}
	defer b.running.Done()
	var st Stats
	err := b.db.View(func(tx *bbolt.Tx) error {
		st.Bytes = tx.Size()
		clients := tx.Bucket(clientsBucket)
		if clients == nil {
			return nil
		}
		return clients.ForEachBucket(func(id []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			st.Clients++
			cb := clients.Bucket(id)
			if rb := cb.Bucket(reservationsBucket); rb != nil {
				st.Reservations += rb.Stats().KeyN
			}
			recs := cb.Bucket(recordsBucket)
			if recs == nil {
				return nil
			}
			return recs.ForEach(func(txid, v []byte) error {
				if store.IsUsageTxID(txid) {
					return nil // the client's quota usage, not a transaction
				}
				rec, err := store.DecodeRecord(v)
				if err != nil {
					return fmt.Errorf("store/bolt: record %x: %w", txid, err)
				}
				st.Records++
				if rec.State == store.TxPrepared {
					st.Prepared++
				}
				return nil
			})
		})
	})
	return st, err
}
