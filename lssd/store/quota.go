package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrQuota: a write would take the client over one of its quotas. Nothing of the
// write is kept. The message names the quota, its limit and the client's usage.
var ErrQuota = errors.New("quota exceeded")

// Quota bounds what one client may hold. A zero field is unlimited.
type Quota struct {
	// MaxKeys bounds the keys stored, plus the keys that prepared transactions
	// would create (they are counted at Prepare, so that Commit never grows usage).
	MaxKeys int64
	// MaxBytes bounds the sum of len(key)+len(value) over the stored keys, plus
	// the same sum over the writes held by prepared transactions (their records
	// hold the values until Commit).
	MaxBytes int64
	// MaxPending bounds the prepared (not yet committed or aborted) transactions.
	MaxPending int64
}

// Validate refuses a negative quota: zero means unlimited, and a negative one
// would read as neither a limit nor "unlimited".
func (q Quota) Validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"max keys per client", q.MaxKeys},
		{"max bytes per client", q.MaxBytes},
		{"max pending per client", q.MaxPending},
	} {
		if f.v < 0 {
			return fmt.Errorf("%s is %d, must not be negative (0 means unlimited)", f.name, f.v)
		}
	}
	return nil
}

// Usage is what a client holds, as the quotas count it.
type Usage struct {
	Keys, Bytes, Pending int64
}

// usageTxID names the record holding a client's usage. It is shorter than
// MinTxIDLen, so no client txid can reach it, and it is hidden from Transactions
// and Prune.
var usageTxID = []byte("\x00lss-usage")

func isUsageRecord(rec Record) bool { return IsUsageTxID(rec.TxID) }

// IsUsageTxID reports whether txid names one of the store's own per-client
// records (usage, generation) rather than a transaction, for backends that walk
// records themselves (metrics).
func IsUsageTxID(txid []byte) bool {
	return bytes.Equal(txid, usageTxID) || bytes.Equal(txid, generationTxID)
}

// kvSize is what one key-value counts against MaxBytes.
func kvSize(kv KV) int64 { return int64(len(kv.Key)) + int64(len(kv.Value)) }

// quotaTx tracks one client's usage through one backend transaction: writes go
// through it so that usage changes in the same transaction as the data, and save
// checks the quota and stores the new usage.
type quotaTx struct {
	tx     Txn
	before Usage
	u      Usage
	// pending lists the txids of the client's prepared transactions, ascending
	// (see prepared.go); every path that prepares or decides one changes it
	// here, so the usage record saved with the decision holds it.
	pending pendingList
	// stored says the client's usage record holds the usage and list loaded;
	// listChanged that the list changed since. When neither the usage nor the
	// list changed, save need not write the record again.
	stored, listChanged bool
	// changed says this transaction writes the client's data or records, so
	// save writes a new generation (see Generation).
	changed bool
}

// loadUsage reads the client's usage record. A client written before usage was
// tracked has none: its usage is counted once from the data and the records.
// One whose record was written before it listed the prepared txids has the list
// built once from the records; save then stores it.
func loadUsage(tx Txn) (*quotaTx, error) {
	u, pending, found, listed, err := readUsage(tx)
	switch {
	case err != nil:
		return nil, err
	case !found:
		u, pending, err = countUsage(tx)
	case !listed:
		var n int
		pending, n, err = preparedTxIDs(tx)
		// Pending is the number of prepared records: a record that counted
		// otherwise (which a correct store never writes) is put right, so
		// that the list stored with it is trusted from then on.
		u.Pending = int64(n)
	}
	if err != nil {
		return nil, err
	}
	return &quotaTx{tx: tx, before: u, u: u, pending: pending, stored: listed}, nil
}

// readUsage reads the client's usage record (found false if it has none): its
// usage and list of prepared txids (listed false if the record holds no list,
// as one written before the list was kept, or a list that does not match its
// pending count; the list is then to be built from the records).
func readUsage(r Reader) (u Usage, pending pendingList, found, listed bool, err error) {
	rec, ok, err := r.Record(usageTxID)
	if err != nil || !ok {
		return Usage{}, nil, false, false, err
	}
	if u, err = decodeUsage(rec.Seal); err != nil {
		return Usage{}, nil, false, false, err
	}
	var n int
	if pending, n, listed, err = decodePendingList(rec.KVs); err != nil {
		return Usage{}, nil, false, false, err
	}
	if !listed || int64(n) != u.Pending {
		return u, nil, true, false, nil
	}
	return u, pending, true, true, nil
}

// countUsage counts a client's usage by reading everything it holds, and lists
// its prepared txids (ascending).
func countUsage(tx Reader) (Usage, pendingList, error) {
	var u Usage
	kvs, err := tx.Scan("")
	if err != nil {
		return u, nil, err
	}
	for _, kv := range kvs {
		u.Keys++
		u.Bytes += kvSize(kv)
	}
	recs, err := tx.Records()
	if err != nil {
		return u, nil, err
	}
	pending := pendingList{}
	for _, rec := range recs {
		if rec.State != TxPrepared || isUsageRecord(rec) {
			continue
		}
		keys, b, err := preparedUsage(tx, rec.KVs)
		if err != nil {
			return u, nil, err
		}
		u.Keys, u.Bytes, u.Pending = u.Keys+keys, u.Bytes+b, u.Pending+1
		pending = pending.appendTxID(rec.TxID) // Records is in txid order
	}
	return u, pending, nil
}

// preparedUsage is what a prepared transaction's writes count: the keys not yet
// stored, and the size of every write.
func preparedUsage(tx Reader, kvs []KV) (keys, size int64, err error) {
	for _, kv := range kvs {
		size += kvSize(kv)
		if _, _, ok, err := stat(tx, kv.Key); err != nil {
			return 0, 0, err
		} else if !ok {
			keys++
		}
	}
	return keys, size, nil
}

// set stores kv, counting the key if new and the change in size.
func (q *quotaTx) set(kv KV) error {
	_, oldLen, ok, err := stat(q.tx, kv.Key)
	if err != nil {
		return err
	}
	if ok {
		q.u.Bytes -= int64(len(kv.Key)) + int64(oldLen)
	} else {
		q.u.Keys++
	}
	q.u.Bytes += kvSize(kv)
	q.changed = true
	return q.tx.Set(kv)
}

// prepare counts a transaction being prepared under txid with kvs, and lists
// txid as prepared; call it before its keys are stored.
func (q *quotaTx) prepare(txid []byte, kvs []KV) error {
	keys, size, err := preparedUsage(q.tx, kvs)
	if err != nil {
		return err
	}
	q.u.Keys, q.u.Bytes, q.u.Pending = q.u.Keys+keys, q.u.Bytes+size, q.u.Pending+1
	q.pending = q.pending.with(txid)
	q.changed, q.listChanged = true, true
	return nil
}

// settle uncounts the prepared transaction txid being committed or aborted
// with kvs, its prepared writes, and takes it off the list; call it
// before its writes are stored (its reserved keys are unchanged since Prepare,
// so it uncounts exactly what prepare counted).
func (q *quotaTx) settle(txid []byte, kvs []KV) error {
	keys, size, err := preparedUsage(q.tx, kvs)
	if err != nil {
		return err
	}
	q.u.Keys, q.u.Bytes, q.u.Pending = q.u.Keys-keys, q.u.Bytes-size, q.u.Pending-1
	q.pending = q.pending.without(txid)
	q.changed, q.listChanged = true, true
	return nil
}

// commit stores the prepared transaction txid's writes (each with its txid and
// proof set) and takes it off the list, uncounting the transaction as settle
// does and counting the writes as set does, with one read of each key instead
// of two: its reserved keys are unchanged since Prepare counted them, so the
// net change is the size of the values replaced and one pending transaction
// less.
func (q *quotaTx) commit(txid []byte, kvs []KV) error {
	for _, kv := range kvs {
		_, oldLen, ok, err := stat(q.tx, kv.Key)
		if err != nil {
			return err
		}
		if ok {
			q.u.Bytes -= int64(len(kv.Key)) + int64(oldLen)
		}
		if err := q.tx.Set(kv); err != nil {
			return err
		}
	}
	q.u.Pending--
	q.pending = q.pending.without(txid)
	q.changed, q.listChanged = true, true
	return nil
}

// save refuses the transaction with ErrQuota if it takes usage over a quota (a
// count that does not grow is never refused, so a client over a lowered quota
// can still shrink), and otherwise stores the new usage and list of prepared
// txids (unless both are as stored) and, if the transaction wrote anything, a
// new generation.
func (q *quotaTx) save(limit Quota) error {
	if err := checkQuota(limit, q.before, q.u); err != nil {
		return err
	}
	if q.changed {
		if err := newGeneration(q.tx); err != nil {
			return err
		}
	}
	if q.u == q.before && q.stored && !q.listChanged {
		return nil
	}
	return q.tx.SetRecord(Record{TxID: usageTxID, State: TxCommitted, Updated: time.Unix(0, 0),
		Seal: encodeUsage(q.u), KVs: encodePendingList(q.pending)})
}

// checkQuota is the quota decision: after may exceed a limit only where it does
// not exceed before.
func checkQuota(limit Quota, before, after Usage) error {
	check := func(name string, max, was, now int64) error {
		if max > 0 && now > max && now > was {
			return fmt.Errorf("%w: %s quota is %d, client holds %d, this write would make it %d", ErrQuota, name, max, was, now)
		}
		return nil
	}
	return errors.Join(
		check("keys", limit.MaxKeys, before.Keys, after.Keys),
		check("bytes", limit.MaxBytes, before.Bytes, after.Bytes),
		check("pending transactions", limit.MaxPending, before.Pending, after.Pending))
}

func encodeUsage(u Usage) []byte {
	b := make([]byte, 0, 24)
	for _, n := range []int64{u.Keys, u.Bytes, u.Pending} {
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return b
}

func decodeUsage(b []byte) (Usage, error) {
	if len(b) != 24 {
		return Usage{}, fmt.Errorf("store: corrupt usage record: %d bytes", len(b))
	}
	return Usage{
		Keys:    int64(binary.BigEndian.Uint64(b)),
		Bytes:   int64(binary.BigEndian.Uint64(b[8:])),
		Pending: int64(binary.BigEndian.Uint64(b[16:])),
	}, nil
}
