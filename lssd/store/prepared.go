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
// Prune never change a prepared record, so never the list (Prune only stores it
// for a client whose usage record lacks it: keepPendingList).
//
// The list's length is the Pending count, which MaxPending bounds (1,000 per
// client by default in lssd); with MaxPending 0 (unlimited) nothing but the
// client's own prepares bounds it. Each entry costs its txid plus one length
// byte in the usage record, which every write of the client reads and most
// rewrite: a client with hundreds of prepared transactions pays for copying
// a record of some kilobytes on each of its writes.
//
// The list is kept in the record's KVs, as one entry named pendingListKey whose
// value is the txids, each preceded by its uvarint length (pendingList). The
// usage itself stays in the Seal in the layout it always had: a record written
// before the list existed decodes with no list, and lssd releases from before
// the list read a record with the list as the usage alone (they ignore a usage
// record's KVs, and drop the list when they rewrite the record, which they do
// whenever the pending count changes). A record without the list (or one whose
// length is not its Pending count, which a correct store never writes), and a
// client with no usage record (one that has only fenced), are not trusted for
// the listing: it falls back to reading past the decided records, and the next
// write that saves the usage, or prune, builds the list from the records and
// stores it.

// pendingListKey names the usage record's KV holding the list of prepared txids.
const pendingListKey = "prepared-txids"

// pendingList is the list of prepared txids as the usage record holds it: each
// txid preceded by its uvarint length, in ascending order. The store works on
// it in this form: loading the usage record (which every write of the client
// does) then costs one check of the list and no allocation per txid, and a
// prepare or a decision one copy of it.
type pendingList []byte

// next returns the txid at off and the offset after it (off < len(l), at the
// start of an entry; l is checked by decodePendingList or built here).
func (l pendingList) next(off int) (txid []byte, end int) {
	n, size := binary.Uvarint(l[off:])
	start := off + size
	return l[start : start+int(n) : start+int(n)], start + int(n)
}

// find returns the offset of the first txid not below txid, and whether it is
// txid.
func (l pendingList) find(txid []byte) (off int, found bool) {
	for off < len(l) {
		id, end := l.next(off)
		if c := bytes.Compare(id, txid); c >= 0 {
			return off, c == 0
		}
		off = end
	}
	return off, false
}

// with returns l with txid added (once), as a new list.
func (l pendingList) with(txid []byte) pendingList {
	off, found := l.find(txid)
	if found {
		return l
	}
	out := make(pendingList, 0, len(l)+uvarintLen(len(txid))+len(txid))
	out = append(out, l[:off]...)
	out = binary.AppendUvarint(out, uint64(len(txid)))
	out = append(out, txid...)
	return append(out, l[off:]...)
}

// without returns l without txid, as a new list.
func (l pendingList) without(txid []byte) pendingList {
	off, found := l.find(txid)
	if !found {
		return l
	}
	_, end := l.next(off)
	out := make(pendingList, 0, len(l)-(end-off))
	out = append(out, l[:off]...)
	return append(out, l[end:]...)
}

// appendTxID appends txid, which sorts after every txid of l.
func (l pendingList) appendTxID(txid []byte) pendingList {
	l = binary.AppendUvarint(l, uint64(len(txid)))
	return append(l, txid...)
}

// encodePendingList lays out the list of prepared txids as the usage record's
// KVs. An empty list is still one entry, so that it reads as "none prepared"
// rather than "no list".
func encodePendingList(l pendingList) []KV {
	if l == nil {
		l = pendingList{}
	}
	return []KV{{Key: pendingListKey, Value: l}}
}

// decodePendingList finds the list of prepared txids in the usage record's KVs
// and checks it: listed is false when kvs hold none (a usage record written
// before the list was kept), and n is the number of txids. The list shares
// kvs' memory. One that is not of valid txids in ascending order is corrupt.
func decodePendingList(kvs []KV) (l pendingList, n int, listed bool, err error) {
	i := slices.IndexFunc(kvs, func(kv KV) bool { return kv.Key == pendingListKey })
	if i < 0 {
		return nil, 0, false, nil
	}
	l = kvs[i].Value
	var last []byte
	for off := 0; off < len(l); n++ {
		size, w := binary.Uvarint(l[off:])
		if w <= 0 || size < MinTxIDLen || size > MaxTxIDLen || size > uint64(len(l)-off-w) {
			return nil, 0, false, fmt.Errorf("store: corrupt usage record: bad txid length in the list of prepared txids")
		}
		id, end := l.next(off)
		if last != nil && bytes.Compare(last, id) >= 0 {
			return nil, 0, false, fmt.Errorf("store: corrupt usage record: the list of prepared txids is not ascending")
		}
		last, off = id, end
	}
	if l == nil {
		l = pendingList{}
	}
	return l, n, true, nil
}

// preparedTxIDs lists the client's prepared txids by reading all its records,
// a bounded read at a time: once per client, to build the list of a usage
// record written before it was kept.
func preparedTxIDs(r Reader) (l pendingList, n int, err error) {
	l = pendingList{}
	var after []byte
	for {
		recs, err := r.RecordsRange(after, Bound{Items: skipItems, Bytes: skipBytes})
		if err != nil {
			return nil, 0, err
		}
		for _, rec := range recs {
			if rec.State == TxPrepared && !isUsageRecord(rec) {
				l, n = l.appendTxID(rec.TxID), n+1
			}
		}
		if len(recs) < skipItems && totalSize(recs, Record.Size) <= skipBytes {
			return l, n, nil // the read was not cut short: nothing follows
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
	_, l, _, listed, err := readUsage(r)
	if err != nil || !listed {
		return nil, false, false, err
	}
	off := 0
	if len(after) > 0 {
		var found bool
		if off, found = l.find(after); found {
			_, off = l.next(off)
		}
	}
	total := 0
	for off < len(l) {
		if err := ctx.Err(); err != nil {
			return nil, false, true, err
		}
		var txid []byte
		txid, off = l.next(off)
		rec, ok, err := r.Record(txid)
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
