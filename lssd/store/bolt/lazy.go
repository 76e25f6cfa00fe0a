package bolt

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

// Lazy updates (store.LazyUpdater): the second phase of a two-phase commit.
//
// bbolt has no per-transaction durability: a write transaction becomes visible
// when its meta page is written, after its pages are fsynced, and bbolt's
// DB-wide NoSync is not a lazy mode but an unsafe one (a power loss can leave
// the meta page pointing at pages that never reached the disk). So a lazy
// Update here runs in the group commit like any other, inside the batch's one
// bolt write transaction, and is released as soon as the batch's functions have
// all run, before the fsync: its writes are then published in an in-memory
// overlay that every View reads through, until the batch's bolt commit makes
// them visible in the file (and durable). The batch's fsync is paid by the
// leader, in the background when a lazy caller leads. Before the calls are
// released, their writes are appended to the commit journal (journal.go), with
// one write and no fsync, so that a lazy update answered before a crash of the
// process is replayed into the file at the next Open.
//
// What store.LazyUpdater asks, and why it holds:
//   - Atomic and serializable with every other Update: the lazy function runs in
//     the batch's bolt transaction after the functions before it, and the
//     functions after it (this batch) or in later batches (which start only once
//     this batch committed) see its writes through bolt itself.
//   - Visible to every transaction that starts after it returns: Updates, as
//     above; Views through the overlay, which a View reads before opening its
//     bolt read transaction, and from which a batch's writes are removed only
//     after its bolt commit (so a View that misses them in the overlay finds
//     them in the file). A View leaves out the write sets of batches its file
//     snapshot already holds, whose later writes the overlay would hide.
//   - Lost only in order: an Update that starts after the lazy one returned is
//     in the same batch or a later one, so it is never durable without it; and
//     the journal, replayed as a prefix in order, brings back lazy updates only
//     (journal.go argues it for a crash of the process and of the machine).
//   - If the batch's bolt commit fails, the lazy writes are dropped from the
//     overlay and cut off the journal: lost, as a machine crash would lose them,
//     and for the same reason safe (store.LazyUpdater).
//
// The overlay merges with the file by the store's own order, so a stale overlay
// entry never hides a newer write of the file: a value wins only if its version
// is higher than the file's; a record only over a prepared one or none; a
// released reservation only if the file still holds the key for the same txid.
// A lazy function may Set, Release and SetRecord; Reserve and DeleteRecord are
// refused (Store.Commit never makes them, and the overlay could not order them).

// errLazyWrite is returned by a write a lazy update does not support.
var errLazyWrite = errors.New("store/bolt: Reserve and DeleteRecord are not supported in a lazy update")

// writeSet is what one lazy function wrote, as the overlay serves it.
type writeSet struct {
	data map[string]store.KV
	// released maps a key to the txid whose reservation of it was released.
	released map[string][]byte
	recs     map[string]store.Record
	// recEncoded holds, per txid of recs, the bytes the function gave bolt
	// (store.EncodeRecord), for the journal to write as they are instead of
	// encoding the record again. A write set read back from the journal has
	// none.
	recEncoded map[string][]byte
	// batch is the bolt transaction id of the batch that wrote it: a read
	// transaction whose id is at least that sees the batch in the file.
	batch int
}

func newWriteSet() *writeSet {
	return &writeSet{data: map[string]store.KV{}, released: map[string][]byte{}, recs: map[string]store.Record{}}
}

// expect sizes an empty write set for n values and released reservations, so
// that its maps are made once rather than grown key by key. Only an allocation
// hint: the write set holds what is written, whatever n was.
func (ws *writeSet) expect(n int) {
	if len(ws.data) == 0 {
		ws.data = make(map[string]store.KV, n)
	}
	if len(ws.released) == 0 {
		ws.released = make(map[string][]byte, n)
	}
}

// setValue records that kv was stored as enc (store.EncodeValue(kv)). The
// overlay's copy of the value is the tail of enc, where EncodeValue puts it:
// neither bolt (which keeps enc until the commit) nor the overlay changes it.
func (ws *writeSet) setValue(kv store.KV, enc []byte) {
	if len(kv.Value) > 0 {
		kv.Value = enc[len(enc)-len(kv.Value):]
	}
	ws.data[kv.Key] = kv
}

// setRecord records that rec was stored as enc (store.EncodeRecord(rec)).
func (ws *writeSet) setRecord(rec store.Record, enc []byte) {
	ws.recs[string(rec.TxID)] = rec
	if ws.recEncoded == nil {
		ws.recEncoded = map[string][]byte{}
	}
	ws.recEncoded[string(rec.TxID)] = enc
}

// overlay holds the published writes of lazy updates whose batch has not been
// committed to the file yet, per client. A writeSet is never changed once
// published.
type overlay struct {
	mu       sync.Mutex
	byClient map[string][]*writeSet
}

// publish makes ws visible to the Views of client.
func (o *overlay) publish(client []byte, ws *writeSet) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byClient == nil {
		o.byClient = map[string][]*writeSet{}
	}
	o.byClient[string(client)] = append(o.byClient[string(client)], ws)
}

// remove drops ws, once the file holds it (or it was lost).
func (o *overlay) remove(client []byte, ws *writeSet) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sets := slices.DeleteFunc(o.byClient[string(client)], func(s *writeSet) bool { return s == ws })
	if len(sets) == 0 {
		delete(o.byClient, string(client))
		return
	}
	o.byClient[string(client)] = sets
}

// sets returns the client's published write sets, oldest first.
func (o *overlay) sets(client []byte) []*writeSet {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.byClient[string(client)])
}

// UpdateLazy implements store.LazyUpdater: fn runs in the group commit like an
// Update, and UpdateLazy returns once the functions of its batch have run,
// without waiting for the batch's fsync (see above). With NoGroupCommit it is a
// durable Update.
func (b *Backend) UpdateLazy(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	if b.opts.NoGroupCommit || !b.journal.usable.Load() {
		return b.Update(ctx, client, fn)
	}
	if err := b.begin(ctx, client); err != nil {
		return err
	}
	defer b.running.Done()
	c := &call{ctx: ctx, client: client, fn: fn, lazy: true, wake: make(chan bool, 1), released: make(chan struct{})}
	if b.enqueue(c) {
		b.leadInBackground(c)
	}
	for {
		select {
		case <-c.released:
			return c.lazyErr
		case <-c.wake: // only ever true: a lazy call is released before its batch ends
			b.leadInBackground(c)
		}
	}
}

// leadInBackground leads the batch of c in another goroutine, so that a lazy
// caller need not wait for the fsync. Close waits for it. A panic in one of the
// batch's functions is not re-raised there (no caller could recover it): the
// batch is rolled back and every caller of it gets errLeaderPanicked.
func (b *Backend) leadInBackground(c *call) {
	b.running.Add(1)
	go func() {
		defer b.running.Done()
		defer func() { _ = recover() }()
		b.lead(c)
	}()
}

// release tells a lazy caller its result; it must be called once, by the
// leader, and nothing of c may change for the caller after it.
func (c *call) release(err error) {
	c.lazyErr = err
	close(c.released)
}

// publishLazy journals the writes of the batch's lazy calls, then publishes and
// releases them: called by the leader once every function of the batch has run,
// in its bolt transaction tx, before the bolt commit. If the journal cannot be
// written, it releases nothing and returns the error, for the batch to fail.
func (b *Backend) publishLazy(tx *bbolt.Tx, calls []*call) error {
	if err := b.journal.log(tx, calls); err != nil {
		return err
	}
	for _, c := range calls {
		if !c.lazy || c.isReleased() {
			continue
		}
		if c.err == nil && c.ws != nil {
			c.ws.batch = tx.ID()
			b.overlay.publish(c.client, c.ws)
			c.published = true
		}
		c.release(c.err)
	}
	return nil
}

func (c *call) isReleased() bool {
	select {
	case <-c.released:
		return true
	default:
		return false
	}
}

// notInFile is sets without those whose batch the read transaction tx sees
// committed. bbolt numbers write transactions in commit order and a read
// transaction takes the number of the last one committed; a batch whose bolt
// commit failed gives its number to the next, and its writes, lost, are left
// out as well once that one committed.
func notInFile(sets []*writeSet, tx *bbolt.Tx) []*writeSet {
	return slices.DeleteFunc(sets, func(ws *writeSet) bool { return ws.batch <= tx.ID() })
}

// unpublishLazy removes the batch's lazy writes from the overlay once the bolt
// commit is over (committed: the file serves them; failed: they are lost), and
// releases any lazy call not released yet with its error.
func (b *Backend) unpublishLazy(calls []*call) {
	for _, c := range calls {
		if !c.lazy {
			continue
		}
		if c.published {
			b.overlay.remove(c.client, c.ws)
			c.published = false
		}
		if !c.isReleased() {
			c.release(c.err)
		}
	}
}

// lazyReader is a View's reader: the file's snapshot with the published lazy
// writes of the client laid over it (see "The overlay merges" above).
type lazyReader struct {
	store.Reader
	sets []*writeSet
}

func (r *lazyReader) Get(key string) (store.KV, bool, error) {
	kv, ok, err := r.Reader.Get(key)
	if err != nil {
		return kv, ok, err
	}
	for _, s := range r.sets {
		if v, in := s.data[key]; in && (!ok || v.Version > kv.Version) {
			kv, ok = v, true
		}
	}
	return kv, ok, nil
}

func (r *lazyReader) Scan(prefix string) ([]store.KV, error) {
	kvs, err := r.Reader.Scan(prefix)
	if err != nil {
		return nil, err
	}
	return r.mergeKVs(kvs, func(k string) bool { return strings.HasPrefix(k, prefix) }), nil
}

// ScanRange merges the overlay into the file's range reads and bounds the result
// again (mergeRange).
func (r *lazyReader) ScanRange(prefix string, after *string, b store.Bound) ([]store.KV, error) {
	if len(r.sets) == 0 {
		return r.Reader.ScanRange(prefix, after, b)
	}
	return mergeRange(b, store.KV.Size, func(kv store.KV) string { return kv.Key }, after,
		func(from *string) ([]store.KV, error) { return r.Reader.ScanRange(prefix, from, b) },
		func(page []store.KV, in func(string) bool) []store.KV {
			return r.mergeKVs(page, func(k string) bool { return strings.HasPrefix(k, prefix) && in(k) })
		})
}

// mergeRange is a range read of the file with the overlay laid over it, bounded
// by b as store.Reader's range reads are. The overlay may add entries and
// change sizes, so a file read (bounded by b too) is merged only up to where it
// stopped; overlay entries past that point wait for the next file read, after
// which the file may hold entries not read yet. It reads on until the merged
// entries use up b or the file ends.
func mergeRange[T any](b store.Bound, size func(T) int, key func(T) string, start *string,
	read func(from *string) ([]T, error), merge func(page []T, in func(string) bool) []T) ([]T, error) {
	var out []T
	from := start
	for {
		page, err := read(from)
		if err != nil {
			return nil, err
		}
		cut := exhausts(page, b, size)
		lo, hi := from, ""
		if cut {
			hi = key(page[len(page)-1])
		}
		out = append(out, merge(page, func(k string) bool { return (lo == nil || k > *lo) && (!cut || k <= hi) })...)
		if !cut || exhausts(out, b, size) {
			return bounded(out, b, size), nil
		}
		from = &hi
	}
}

// mergeKVs lays the overlay's values of the keys in accepts over kvs (sorted by
// key), keeping key order.
func (r *lazyReader) mergeKVs(kvs []store.KV, in func(string) bool) []store.KV {
	if len(r.sets) == 0 {
		return kvs
	}
	at := make(map[string]int, len(kvs))
	for i, kv := range kvs {
		at[kv.Key] = i
	}
	var out []store.KV
	added := false
	for _, s := range r.sets {
		for k, v := range s.data {
			if !in(k) {
				continue
			}
			if out == nil {
				out = slices.Clone(kvs)
			}
			i, ok := at[k]
			switch {
			case !ok:
				at[k] = len(out)
				out = append(out, v)
				added = true
			case v.Version > out[i].Version:
				out[i] = v
			}
		}
	}
	if out == nil {
		return kvs
	}
	if added {
		slices.SortFunc(out, func(a, b store.KV) int { return strings.Compare(a.Key, b.Key) })
	}
	return out
}

// exhausts says whether entries use up bound b (so a range read returning
// them may have stopped before the end).
func exhausts[T any](entries []T, b store.Bound, size func(T) int) bool {
	g := b.Budget()
	for _, e := range entries {
		if !g.Take(size(e)) {
			return true
		}
	}
	return false
}

// bounded is the prefix of entries a range read bounded by b returns.
func bounded[T any](entries []T, b store.Bound, size func(T) int) []T {
	g := b.Budget()
	for i, e := range entries {
		if !g.Take(size(e)) {
			return entries[:i+1]
		}
	}
	return entries
}

func (r *lazyReader) Reservation(key string) ([]byte, bool, error) {
	txid, ok, err := r.Reader.Reservation(key)
	if err != nil || !ok {
		return txid, ok, err
	}
	for _, s := range r.sets {
		if by, in := s.released[key]; in && bytes.Equal(by, txid) {
			return nil, false, nil
		}
	}
	return txid, true, nil
}

// newer says whether an overlay record replaces the file's. A transaction's
// record only moves forward, from prepared to decided, so a prepared one never
// replaces a decided one. Otherwise the overlay's wins: a View reads only the
// write sets of batches its file snapshot does not hold (notInFile), and a
// batch starts only after the one before it committed, so an overlay entry is
// never older than the file's. That matters for the records rewritten in place
// (the client's usage and generation), whose merge has no order to go by.
func newer(over store.Record, file store.Record, inFile bool) bool {
	return !inFile || file.State == store.TxPrepared || over.State != store.TxPrepared
}

func (r *lazyReader) Record(txid []byte) (store.Record, bool, error) {
	rec, ok, err := r.Reader.Record(txid)
	if err != nil {
		return rec, ok, err
	}
	for _, s := range r.sets {
		if v, in := s.recs[string(txid)]; in && newer(v, rec, ok) {
			rec, ok = v, true
		}
	}
	return rec, ok, nil
}

func (r *lazyReader) Records() ([]store.Record, error) {
	recs, err := r.Reader.Records()
	if err != nil {
		return nil, err
	}
	return r.mergeRecords(recs, func(string) bool { return true }), nil
}

// RecordsRange is ScanRange's merge for records.
func (r *lazyReader) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	if len(r.sets) == 0 {
		return r.Reader.RecordsRange(after, b)
	}
	var start *string
	if len(after) > 0 {
		a := string(after)
		start = &a
	}
	return mergeRange(b, store.Record.Size, func(rec store.Record) string { return string(rec.TxID) }, start,
		func(from *string) ([]store.Record, error) {
			var f []byte
			if from != nil {
				f = []byte(*from)
			}
			return r.Reader.RecordsRange(f, b)
		},
		r.mergeRecords)
}

// mergeRecords lays the overlay's records of the txids in accepts over recs
// (sorted by txid), keeping txid order.
func (r *lazyReader) mergeRecords(recs []store.Record, in func(string) bool) []store.Record {
	if len(r.sets) == 0 {
		return recs
	}
	at := make(map[string]int, len(recs))
	for i, rec := range recs {
		at[string(rec.TxID)] = i
	}
	var out []store.Record
	added := false
	for _, s := range r.sets {
		for id, v := range s.recs {
			if !in(id) {
				continue
			}
			if out == nil {
				out = slices.Clone(recs)
			}
			i, ok := at[id]
			switch {
			case !ok:
				at[id] = len(out)
				out = append(out, v)
				added = true
			case newer(v, out[i], true):
				out[i] = v
			}
		}
	}
	if out == nil {
		return recs
	}
	if added {
		slices.SortFunc(out, func(a, b store.Record) int { return bytes.Compare(a.TxID, b.TxID) })
	}
	return out
}
