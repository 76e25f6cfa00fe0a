package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"sync/atomic"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

// The commit journal: what makes a lazy update (lazy.go) survive a crash of the
// lssd process, though not of the machine.
//
// A lazy update is answered before its batch's bolt commit, and until that
// commit its writes live only in the overlay, in memory. So before the leader
// releases the lazy calls of a batch, it appends their write sets to a journal
// file beside the bolt file (Path + ".commits") with one write(2), without an
// fsync: a written file survives the process, and the bar for a commit
// is a process crash (a machine crash falls back to "prepared", which recovery
// decides the same way; store.LazyUpdater). Each entry is a frame, length +
// CRC-32C + payload, whose payload starts with a sequence number that grows by
// one per entry. The batch's bolt transaction stores the highest sequence it
// holds in the meta bucket, so the file says exactly which entries it already
// holds, durably with them.
//
// At Open, entries with a sequence above the stored one are replayed in order
// in one bolt Update, which also stores the last sequence; then the journal is
// truncated and fsynced. A frame that is short or fails its CRC (a write torn by
// the crash, or nothing at all) ends the replay: what is replayed is a prefix of
// what was written. Replay applies a write set with the overlay's own merge
// rules (a value only over a lower version, a record never back to prepared, a
// reservation released only for the same txid), so applying an entry the file
// already holds changes nothing, and an entry never overrides a newer write.
//
// Lost only in order: an entry is written before its lazy call is released, so
// before any Update that starts after the lazy one returned has run; that Update
// commits in the same bolt transaction as the entry's batch or a later one, and
// the entry is in the journal by then. After a process crash the lazy writes
// come back from the journal (a prefix of it, in order), whatever later writes
// made it to the file. After a machine crash the unsynced journal may lose any
// suffix of its entries, but a later write is still never in the file without
// the batch, and so the lazy writes, before it: the earlier argument holds.
//
// An entry is applied at replay without the writes of its batch that were not
// answered: those are lost with the process, as nothing was promised of them.
// So a lazy call's writes must not rest on them (a commit's usage record would
// count a Put of its batch that never happened): the leader runs a batch's lazy
// calls before its other ones (lazyFirst), and they see only the file and each
// other, whose entries come back before theirs.
//
// In normal operation every entry is in the file once its batch committed (batches
// commit one after another, and only a batch's leader appends), so the journal is
// truncated after a batch once it is larger than journalTrim, and at Close. If a
// batch's bolt commit fails, its entries are cut off the journal, so they are not
// replayed into a file that never held them; if even that fails, the journal is
// given up: later lazy updates are durable Updates.

// commitsKey, in the meta bucket, holds the highest journal sequence the file holds.
var commitsKey = []byte("commits")

// journalTrim is the journal size above which it is truncated after a batch.
const journalTrim = 1 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// frameHeader is a frame's length and CRC-32C of its payload.
const frameHeader = 8

// journal is the commit journal. Only the leader of a batch, Open and Close use
// it, one at a time, so it needs no lock.
type journal struct {
	f    *os.File
	path string
	// size is the journal's length; seq the last sequence written, inFile the
	// last one the file holds.
	size   int64
	seq    uint64
	inFile uint64
	// trim is the size above which it is truncated after a batch (journalTrim).
	trim int64
	// broken is set once the journal cannot be trusted to hold what it should
	// (a write or a truncation failed); lazy updates are then durable.
	broken error
	// usable is false once broken is set, for UpdateLazy to read.
	usable atomic.Bool
	// skip, set by tests, writes no entries: lazy updates are then lost with
	// the process, as they were before the journal.
	skip bool
	// buf is the last batch's frames, reused for the next one's up to
	// journalBufKeep bytes (a commit's entry holds all its values).
	buf []byte
}

// journalBufKeep bounds the buffer a journal keeps between batches: the
// journal's own size before it is truncated.
const journalBufKeep = journalTrim

func journalPath(db string) string { return db + ".commits" }

// openJournal opens the journal of the bolt file at db, replays it into db and
// truncates it.
func openJournal(db *bbolt.DB, path string) (*journal, error) {
	j := &journal{path: journalPath(path), trim: journalTrim}
	raw, err := os.ReadFile(j.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store/bolt: read commit journal: %w", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		stored := storedSeq(tx)
		j.seq = stored
		for _, p := range frames(raw) {
			e, err := decodeEntry(p)
			if err != nil {
				return fmt.Errorf("store/bolt: commit journal %s: %w", j.path, err)
			}
			if e.seq <= stored {
				continue
			}
			if err := replay(tx, e); err != nil {
				return fmt.Errorf("store/bolt: replay commit journal %s: %w", j.path, err)
			}
			j.seq = e.seq
		}
		if j.seq == stored {
			return nil
		}
		return tx.Bucket(metaBucket).Put(commitsKey, binary.BigEndian.AppendUint64(nil, j.seq))
	})
	if err != nil {
		return nil, err
	}
	j.inFile = j.seq
	j.usable.Store(true)
	// The replayed entries are in the file and synced: the journal can go.
	if j.f, err = os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("store/bolt: open commit journal: %w", err)
	}
	if err := j.truncate(); err != nil {
		return nil, errors.Join(err, j.f.Close())
	}
	if err := j.f.Sync(); err != nil {
		return nil, errors.Join(fmt.Errorf("store/bolt: sync commit journal: %w", err), j.f.Close())
	}
	return j, nil
}

// storedSeq is the highest journal sequence the file holds.
func storedSeq(tx *bbolt.Tx) uint64 {
	v := tx.Bucket(metaBucket).Get(commitsKey)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// frames returns the payloads of the whole frames at the start of raw, up to the
// first short or corrupt one.
func frames(raw []byte) [][]byte {
	var out [][]byte
	for len(raw) >= frameHeader {
		n := binary.BigEndian.Uint32(raw)
		// Too short for a sequence: a zero-filled tail (a file extended by a
		// machine crash before its data was written), whose CRC would hold.
		if n < 8 || uint64(n) > uint64(len(raw)-frameHeader) {
			break
		}
		p := raw[frameHeader : frameHeader+int(n)]
		if crc32.Checksum(p, crcTable) != binary.BigEndian.Uint32(raw[4:]) {
			break
		}
		out = append(out, p)
		raw = raw[frameHeader+int(n):]
	}
	return out
}

// appendFrame appends the frame of payload p to buf.
func appendFrame(buf, p []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(p)))
	buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(p, crcTable))
	return append(buf, p...)
}

// appendEntryFrame appends e's frame to buf, encoding it in place (a commit's
// write set can be many keys: no copy of it).
func appendEntryFrame(buf []byte, e entry) []byte {
	buf = slices.Grow(buf, frameHeader+e.sizeHint())
	at := len(buf)
	buf = appendEntry(append(buf, make([]byte, frameHeader)...), e)
	p := buf[at+frameHeader:]
	binary.BigEndian.PutUint32(buf[at:], uint32(len(p)))
	binary.BigEndian.PutUint32(buf[at+4:], crc32.Checksum(p, crcTable))
	return buf
}

// log appends the write sets of a batch's lazy calls not released yet to the
// journal, with one write, and stores the last sequence in tx, the batch's bolt
// transaction (also when a batch is tried again after a rollback, with its
// released calls' entries written already). Once it returns, the calls may be
// released.
func (j *journal) log(tx *bbolt.Tx, calls []*call) error {
	if !slices.ContainsFunc(calls, func(c *call) bool { return c.lazy }) {
		return nil
	}
	if j.broken != nil {
		return j.broken
	}
	buf := j.buf[:0]
	seq := j.seq
	size := 0
	for _, c := range calls {
		if c.lazy && !c.isReleased() && c.err == nil && c.ws != nil {
			size += frameHeader + entry{client: c.client, ws: c.ws}.sizeHint()
		}
	}
	buf = slices.Grow(buf, size)
	for _, c := range calls {
		if !c.lazy || c.isReleased() || c.err != nil || c.ws == nil || c.ws.empty() || j.skip {
			continue
		}
		seq++
		buf = appendEntryFrame(buf, entry{seq: seq, client: c.client, ws: c.ws})
	}
	if err := tx.Bucket(metaBucket).Put(commitsKey, binary.BigEndian.AppendUint64(nil, seq)); err != nil {
		return err
	}
	if len(buf) == 0 {
		return nil
	}
	if cap(buf) <= journalBufKeep {
		j.buf = buf // written below, never kept by the file: free to reuse
	}
	n, err := j.f.Write(buf)
	j.size += int64(n)
	if err != nil {
		// A torn frame would end every later replay: cut it off.
		err = fmt.Errorf("store/bolt: write commit journal: %w", err)
		if terr := j.f.Truncate(j.size - int64(n)); terr != nil {
			return j.fail(errors.Join(err, terr))
		}
		j.size -= int64(n)
		return err
	}
	j.seq = seq
	return nil
}

// committed is called after a batch's bolt commit: the file holds every entry.
func (j *journal) committed() {
	j.inFile = j.seq
	if j.broken == nil && j.size > j.trim {
		if err := j.truncate(); err != nil {
			j.fail(err)
		}
	}
}

// failed is called after a batch's bolt commit failed: the file does not hold
// the entries written since the last commit, and must never replay them.
// Sequences are not reused: a gap is harmless.
func (j *journal) failed() {
	if j.broken != nil || j.seq == j.inFile {
		return
	}
	if err := j.truncate(); err != nil {
		j.fail(err)
	}
}

// fail gives the journal up.
func (j *journal) fail(err error) error {
	j.broken = err
	j.usable.Store(false)
	return err
}

// truncate empties the journal.
func (j *journal) truncate() error {
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("store/bolt: truncate commit journal: %w", err)
	}
	j.size = 0
	return nil
}

// close empties (the file holds everything once bolt is closed) and closes the
// journal. A Backend opened only to read (Verify) has none.
func (j *journal) close(dbClosed error) error {
	if j == nil {
		return nil
	}
	var err error
	if dbClosed == nil && j.broken == nil {
		err = j.truncate()
	}
	return errors.Join(err, j.f.Close())
}

// entry is one lazy update in the journal.
type entry struct {
	seq    uint64
	client []byte
	ws     *writeSet
}

// encodeEntry is an entry's payload: seq, client, then the data Sets (key,
// store.EncodeValue), the released reservations (key, txid) and the records
// (store.EncodeRecord), each list preceded by its length, each byte string by
// its length (uvarint).
func encodeEntry(e entry) []byte { return appendEntry(nil, e) }

// sizeHint is about the length of e's payload, to allocate it at once.
func (e entry) sizeHint() int {
	n := 8 + len(e.client) + 3*binary.MaxVarintLen64
	for k, kv := range e.ws.data {
		n += len(k) + store.EncodedValueLen(kv) + 2*binary.MaxVarintLen64
	}
	for k, txid := range e.ws.released {
		n += len(k) + len(txid) + 2*binary.MaxVarintLen64
	}
	for _, rec := range e.ws.recs {
		n += rec.Size() + binary.MaxVarintLen64
	}
	return n
}

// appendEntry appends e's payload (encodeEntry) to b.
func appendEntry(b []byte, e entry) []byte {
	b = binary.BigEndian.AppendUint64(b, e.seq)
	b = appendBytes(b, e.client)
	b = binary.AppendUvarint(b, uint64(len(e.ws.data)))
	for k, kv := range e.ws.data {
		// store.EncodeValue(kv), laid out in place.
		b = binary.AppendUvarint(appendString(b, k), uint64(store.EncodedValueLen(kv)))
		b = store.AppendValue(b, kv)
	}
	b = binary.AppendUvarint(b, uint64(len(e.ws.released)))
	for k, txid := range e.ws.released {
		b = appendBytes(appendString(b, k), txid)
	}
	b = binary.AppendUvarint(b, uint64(len(e.ws.recs)))
	for id, rec := range e.ws.recs {
		r, ok := e.ws.recEncoded[id]
		if !ok {
			r, _ = store.EncodeRecord(rec) // SetRecord encoded it already
		}
		b = appendBytes(b, r)
	}
	return b
}

// empty says whether ws wrote nothing (a Commit repeated, say): no entry.
func (ws *writeSet) empty() bool {
	return len(ws.data)+len(ws.released)+len(ws.recs) == 0
}

func appendBytes(b, s []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// errBadEntry is a frame whose CRC holds but whose payload does not decode: not
// a torn write but a bug or a foreign file, so Open refuses it.
var errBadEntry = errors.New("entry does not decode")

// decoder reads an entry's payload.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadEntry
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadEntry
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

func decodeEntry(p []byte) (entry, error) {
	if len(p) < 8 {
		return entry{}, errBadEntry
	}
	e := entry{seq: binary.BigEndian.Uint64(p), ws: newWriteSet()}
	d := &decoder{b: p[8:]}
	e.client = d.bytes()
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		k := string(d.bytes())
		v := d.bytes()
		if d.err != nil {
			break
		}
		kv, err := store.DecodeValue(k, v)
		if err != nil {
			return entry{}, fmt.Errorf("%w: %w", errBadEntry, err)
		}
		e.ws.data[k] = kv
	}
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		k := string(d.bytes())
		e.ws.released[k] = d.bytes()
	}
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		rec, err := store.DecodeRecord(d.bytes())
		if d.err != nil {
			break
		}
		if err != nil {
			return entry{}, fmt.Errorf("%w: %w", errBadEntry, err)
		}
		e.ws.recs[string(rec.TxID)] = rec
	}
	if d.err == nil && (len(d.b) != 0 || checkClient(e.client) != nil) {
		d.err = errBadEntry
	}
	return e, d.err
}

// replay applies an entry to the file by the overlay's merge rules, so that an
// entry the file already holds, or one older than what the file holds, changes
// nothing.
func replay(tx *bbolt.Tx, e entry) error {
	t := newTxn(tx, e.client)
	for _, kv := range e.ws.data {
		cur, ok, err := t.Get(kv.Key)
		if err != nil {
			return err
		}
		if !ok || kv.Version > cur.Version {
			if err := t.Set(kv); err != nil {
				return err
			}
		}
	}
	for k, txid := range e.ws.released {
		by, ok, err := t.Reservation(k)
		if err != nil {
			return err
		}
		if ok && string(by) == string(txid) {
			if err := t.Release(k); err != nil {
				return err
			}
		}
	}
	for _, rec := range e.ws.recs {
		cur, ok, err := t.Record(rec.TxID)
		if err != nil {
			return err
		}
		if newer(rec, cur, ok) {
			if err := t.SetRecord(rec); err != nil {
				return err
			}
		}
	}
	return nil
}
