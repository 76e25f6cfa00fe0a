package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
)

// The list of prepared txids.
//
// A client's usage record (usageTxID) also lists the txids of its prepared
// transactions, ascending, so that the pending listing (PendingTransactionsPage,
// which every quorum client's Open and recovery asks every provider for) reads
// the usage record and the prepared records only, not the days of decided
// records kept beside them. Every path that moves a record into or out of the
// prepared state (PrepareQuorum, Commit, Abort, Restore settling a prepared
// transaction) already loads the usage record, changes its Pending count and
// saves it in the same backend transaction (quotaTx); the list changes with the
// count, so keeping it costs no read, write or round trip of its own. Fence and
// Prune never touch a prepared record and so never the list.
//
// The list's length is the Pending count, which MaxPending bounds (1,000 per
// client by default in lssd); with MaxPending 0 (unlimited) nothing but the
// client's own prepares bounds it. Each entry costs its txid plus one length
// byte in the usage record, which every write of the client rewrites.
//
// The list is kept in the record's KVs, as one entry named pendingListKey whose
// value is the txids, each preceded by its uvarint length. The usage itself stays
// in the Seal in the layout it always had: a record written before the list
// existed decodes with no list, and lssd releases from before the list read a
// record with the list as the usage alone (they ignore a usage record's KVs). A
// record without the list (or one whose length is not its Pending count, which
// a correct store never writes) is not trusted for the listing: the listing
// falls back to reading every record, and the next write that saves the usage
// builds the list from the records and stores it.

// pendingListKey names the usage record's KV holding the list of prepared txids.
const pendingListKey = "prepared-txids"

// encodePendingList lays out the list of prepared txids as the usage record's
// KVs. An empty list is still one entry, so that it reads as "none prepared"
// rather than "no list".
func encodePendingList(txids [][]byte) []KV {
	n := 0
	for _, id := range txids {
		n += uvarintLen(len(id)) + len(id)
	}
	b := make([]byte, 0, n)
	for _, id := range txids {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	return []KV{{Key: pendingListKey, Value: b}}
}

// decodePendingList reverses encodePendingList: listed is false when kvs hold
// no list (a usage record written before the list was kept). The txids share
// kvs' memory. A list that is not of valid txids in ascending order is corrupt.
func decodePendingList(kvs []KV) (txids [][]byte, listed bool, err error) {
	i := slices.IndexFunc(kvs, func(kv KV) bool { return kv.Key == pendingListKey })
	if i < 0 {
		return nil, false, nil
	}
	b := kvs[i].Value
	txids = [][]byte{}
	for len(b) > 0 {
		n, size := binary.Uvarint(b)
		if size <= 0 || n < MinTxIDLen || n > MaxTxIDLen || n > uint64(len(b)-size) {
			return nil, false, fmt.Errorf("store: corrupt usage record: bad txid length in the list of prepared txids")
		}
		id := b[size : size+int(n) : size+int(n)]
		if len(txids) > 0 && bytes.Compare(txids[len(txids)-1], id) >= 0 {
			return nil, false, fmt.Errorf("store: corrupt usage record: the list of prepared txids is not ascending")
		}
		txids = append(txids, id)
		b = b[size+int(n):]
	}
	return txids, true, nil
}

// listPrepared adds txid to the ascending list txids (once).
func listPrepared(txids [][]byte, txid []byte) [][]byte {
	i, found := slices.BinarySearchFunc(txids, txid, bytes.Compare)
	if found {
		return txids
	}
	return slices.Insert(txids, i, slices.Clone(txid))
}

// unlistPrepared removes txid from the ascending list txids.
func unlistPrepared(txids [][]byte, txid []byte) [][]byte {
	i, found := slices.BinarySearchFunc(txids, txid, bytes.Compare)
	if !found {
		return txids
	}
	return slices.Delete(txids, i, i+1)
}

// preparedTxIDs lists the client's prepared txids (ascending) by reading all its
// records, a bounded read at a time: once per client, to build the list of a
// usage record written before it was kept.
func preparedTxIDs(r Reader) ([][]byte, error) {
	txids := [][]byte{}
	var after []byte
	for {
		recs, err := r.RecordsRange(after, Bound{Items: skipItems, Bytes: skipBytes})
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			if rec.State == TxPrepared && !isUsageRecord(rec) {
				txids = append(txids, rec.TxID)
			}
		}
		if len(recs) < skipItems && totalSize(recs, Record.Size) <= skipBytes {
			return txids, nil // the read was not cut short: nothing follows
		}
		after = recs[len(recs)-1].TxID
	}
}

// keepPendingList stores the list of prepared txids of a client that has
// records (recs, all of them, as Prune reads them) but no list: one written
// only by Fence, which keeps no usage, or by a release from before the list.
// Prune, which reads every record anyway, calls it, so that such a client's
// pending listing reads through the list from its next prune on, without
// waiting for a write that saves its usage. A client with the list pays one
// point read.
func keepPendingList(tx Txn, recs []Record) error {
	if !slices.ContainsFunc(recs, func(rec Record) bool { return !isUsageRecord(rec) }) {
		return nil // nothing to list, and no usage record to create for it
	}
	q, err := loadUsage(tx)
	if err != nil || q.stored {
		return err
	}
	return q.save(Quota{}) // the usage as it was, with the list: refused by no quota
}

// listedPendingPage is PendingTransactionsPage read through the list of
// prepared txids: the usage record, then a point read of each listed txid after
// after until the page is full and one more prepared record is found (more).
// listed is false when the client's usage record holds no list to trust; the
// caller then reads the records themselves. A listed txid whose record is
// missing or not prepared is skipped (the list is written with the records, so
// a correct store never has one).
func listedPendingPage(ctx context.Context, r Reader, after []byte, items, maxBytes int) (recs []Record, more, listed bool, err error) {
	_, txids, _, listed, err := readUsage(r)
	if err != nil || !listed {
		return nil, false, false, err
	}
	i := 0
	if len(after) > 0 {
		var found bool
		if i, found = slices.BinarySearchFunc(txids, after, bytes.Compare); found {
			i++
		}
	}
	total := 0
	for ; i < len(txids); i++ {
		if err := ctx.Err(); err != nil {
			return nil, false, true, err
		}
		rec, ok, err := r.Record(txids[i])
		if err != nil {
			return nil, false, true, err
		}
		if !ok || rec.State != TxPrepared {
			continue
		}
		// As cut: at most items, and no more than maxBytes past the first.
		size := rec.Size()
		if len(recs) == items || len(recs) > 0 && maxBytes > 0 && total+size > maxBytes {
			return recs, true, true, nil
		}
		recs = append(recs, rec)
		total += size
	}
	return recs, false, true, nil
}
