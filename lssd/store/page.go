package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
)

// TooLargeError is a read refused because its reply would pass the byte limit
// it was given. The read stopped as soon as it passed the limit, so Entries and
// Bytes count only what was read until then: the whole would be larger.
type TooLargeError struct {
	// What was read: "key-values" or "transaction records".
	What string
	// Entries and Bytes were read before the read stopped.
	Entries, Bytes int
	// Limit is the byte limit the read was given.
	Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the %s would pass the limit of %d bytes (the first %d of them are %d bytes)",
		e.What, e.Limit, e.Entries, e.Bytes)
}

// GetCapped is Get refused with a *TooLargeError as soon as the key-values read
// pass maxBytes (total KV.Size), so that a refused read never holds more than
// maxBytes plus one value. Keys for which hide returns true (the server's own
// keys) are left out and not counted; hide may be nil.
func (s *Store) GetCapped(ctx context.Context, client []byte, prefix string, maxBytes int, hide func(string) bool) ([]KV, error) {
	var kvs []KV
	err := s.b.View(ctx, client, func(r Reader) (err error) {
		kvs, err = readCapped(maxBytes, KV.Size,
			func(last *KV, b Bound) ([]KV, error) {
				var after *string
				if last != nil {
					after = &last.Key
				}
				return r.ScanRange(prefix, after, b)
			},
			func(kv KV) bool { return hide != nil && hide(kv.Key) })
		return err
	})
	var tooLarge *TooLargeError
	if errors.As(err, &tooLarge) {
		tooLarge.What = "key-values"
	}
	if err != nil {
		return nil, err
	}
	return kvs, nil
}

// readCapped reads with read (from the start, then after the last entry read)
// until the visible entries are complete or pass maxBytes (then a
// *TooLargeError). Hidden entries count against a read's bound but not against
// maxBytes, so a read cut short by them goes on.
func readCapped[T any](maxBytes int, size func(T) int, read func(last *T, b Bound) ([]T, error), hidden func(T) bool) ([]T, error) {
	var out []T
	var last *T
	total := 0
	for {
		b := Bound{Bytes: maxBytes - total}
		if maxBytes > 0 && b.Bytes == 0 {
			b = Bound{Items: 1} // nothing more may come: is there any?
		}
		raw, err := read(last, b)
		if err != nil {
			return nil, err
		}
		n, rawSize := len(raw), totalSize(raw, size)
		if n > 0 {
			end := raw[n-1]
			last = &end
		}
		// Filter in place and keep the first read's slice: a large listing is
		// not copied a second time.
		vis := slices.DeleteFunc(raw, hidden)
		total += totalSize(vis, size)
		if out == nil {
			out = vis
		} else {
			out = append(out, vis...)
		}
		if maxBytes > 0 && total > maxBytes {
			return nil, &TooLargeError{Entries: len(out), Bytes: total, Limit: maxBytes}
		}
		complete := maxBytes <= 0 || (b.Items == 0 && rawSize <= b.Bytes) || (b.Items > 0 && n < b.Items)
		if complete || n == 0 {
			return out, nil
		}
	}
}

// GetPage returns one page of the key-values whose keys start with prefix, in key
// order, from one snapshot: those after *after (from the first when after is
// nil), at most items of them (items > 0) and no more than maxBytes in total
// (KV.Size; at least one key-value whatever its size, so that paging always
// advances). more reports whether keys under prefix follow the page, and gen is
// the client's generation in the page's snapshot: pages read at one generation
// are one snapshot (see Generation). Keys for which hide returns true are left
// out; hide may be nil.
func (s *Store) GetPage(ctx context.Context, client []byte, prefix string, after *string, items, maxBytes int,
	hide func(string) bool) (kvs []KV, more bool, gen Generation, err error) {
	if items <= 0 {
		return nil, false, Generation{}, fmt.Errorf("%w: page of %d items", ErrInvalid, items)
	}
	err = s.b.View(ctx, client, func(r Reader) error {
		var err error
		if gen, err = generation(r); err != nil {
			return err
		}
		// Two more than the page: one hidden key (the server's keys sort last,
		// but a hide function is not bound to that) and one to tell whether more
		// follow. A read cut short by the bound has more after it even when its
		// last entries are hidden; one that holds only hidden keys goes on past
		// them, so a page that says more is never empty.
		for {
			raw, err := r.ScanRange(prefix, after, Bound{Items: items + 2, Bytes: maxBytes})
			if err != nil {
				return err
			}
			short := len(raw) >= items+2 || maxBytes > 0 && totalSize(raw, KV.Size) > maxBytes
			kvs, more = cut(deleteHidden(slices.Clone(raw), hide), KV.Size, items, maxBytes)
			more = more || short
			if len(kvs) > 0 || !more {
				return nil
			}
			after = &raw[len(raw)-1].Key
		}
	})
	if err != nil {
		return nil, false, Generation{}, err
	}
	return kvs, more, gen, nil
}

// TransactionsCapped is Transactions refused with a *TooLargeError as soon as the
// records read pass maxBytes (total Record.Size).
func (s *Store) TransactionsCapped(ctx context.Context, client []byte, maxBytes int) ([]Record, error) {
	var recs []Record
	err := s.b.View(ctx, client, func(r Reader) (err error) {
		recs, err = readCapped(maxBytes, Record.Size,
			func(last *Record, b Bound) ([]Record, error) {
				var after []byte
				if last != nil {
					after = last.TxID
				}
				return r.RecordsRange(after, b)
			}, isUsageRecord)
		return err
	})
	var tooLarge *TooLargeError
	if errors.As(err, &tooLarge) {
		tooLarge.What = "transaction records"
	}
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// TransactionsPage returns one page of the client's records in txid order: those
// after after (from the first when after is empty), at most items (> 0) and no
// more than maxBytes (Record.Size; at least one record). more reports whether
// records follow the page; a page is empty only when none do.
func (s *Store) TransactionsPage(ctx context.Context, client, after []byte, items, maxBytes int) (recs []Record, more bool, err error) {
	return s.transactionsPage(ctx, client, after, items, maxBytes, nil)
}

// PendingTransactionsPage is TransactionsPage listing the prepared records
// only: a page holds as many prepared records as it may, more reports whether a
// prepared record follows, and a page is empty only when none is left. It reads
// the client's list of prepared txids (prepared.go) and those records, from one
// snapshot, so its cost follows the prepared transactions, not the decided
// records kept beside them. A client whose usage record holds no list yet
// (written before it was kept) is read as TransactionsPage reads, on past the
// decided records, until its next write stores the list.
func (s *Store) PendingTransactionsPage(ctx context.Context, client, after []byte, items, maxBytes int) (recs []Record, more bool, err error) {
	if items <= 0 {
		return nil, false, fmt.Errorf("%w: page of %d items", ErrInvalid, items)
	}
	keep := func(rec Record) bool { return rec.State == TxPrepared }
	err = s.b.View(ctx, client, func(r Reader) error {
		var listed bool
		recs, more, listed, err = listedPendingPage(ctx, r, after, items, maxBytes)
		if err != nil || listed {
			return err
		}
		recs, more, err = readPage(ctx, r, after, items, maxBytes, keep)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return recs, more, nil
}

// A page that skips records (the store's own, or those keep drops) reads on
// with wider reads, up to these bounds, so that passing thousands of decided
// records takes a few reads (a few round trips on a networked database) and
// holds at most about skipBytes of them at a time.
const (
	skipItems = 1024
	skipBytes = 1 << 20
)

// transactionsPage is TransactionsPage of the records keep keeps (all when
// keep is nil).
func (s *Store) transactionsPage(ctx context.Context, client, after []byte, items, maxBytes int,
	keep func(Record) bool) (recs []Record, more bool, err error) {
	if items <= 0 {
		return nil, false, fmt.Errorf("%w: page of %d items", ErrInvalid, items)
	}
	err = s.b.View(ctx, client, func(r Reader) error {
		recs, more, err = readPage(ctx, r, after, items, maxBytes, keep)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return recs, more, nil
}

// readPage reads transactionsPage's page in r.
func readPage(ctx context.Context, r Reader, after []byte, items, maxBytes int,
	keep func(Record) bool) (recs []Record, more bool, err error) {
	drop := isUsageRecord
	if keep != nil {
		drop = func(rec Record) bool { return isUsageRecord(rec) || !keep(rec) }
	}
	from := after
	// Two more for the store's own records (usage, generation), one to
	// tell whether more follow. A read cut short by its bound has records
	// after it: while what it kept leaves the page room, read on (wider,
	// since records are being skipped). The page ends with a record left
	// over, so more says that one follows, or at the end.
	b := Bound{Items: items + 3, Bytes: maxBytes}
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		raw, err := r.RecordsRange(from, b)
		if err != nil {
			return nil, false, err
		}
		short := len(raw) >= b.Items || b.Bytes > 0 && totalSize(raw, Record.Size) > b.Bytes
		kept := slices.DeleteFunc(slices.Clone(raw), drop)
		recs, more = cut(append(recs, kept...), Record.Size, items, maxBytes)
		if more || !short {
			return recs, more, nil
		}
		from = raw[len(raw)-1].TxID
		b = Bound{Items: max(b.Items, min(2*b.Items, skipItems)), Bytes: b.Bytes}
		if b.Bytes > 0 {
			b.Bytes = max(b.Bytes, min(2*b.Bytes, skipBytes))
		}
	}
}

// TransactionsOf returns the client's records of txids (each valid, see
// CheckTxID; a repeated one counts once), in ascending txid order, read from
// one snapshot by point reads: a client holding days of decided records pays
// for the txids it asks about only. A txid with no record is left out, and so
// are the store's own records (their ids are shorter than any valid txid, so
// none can be asked for anyway). A read whose records pass maxBytes (total
// Record.Size; 0 for no limit) is refused with a *TooLargeError as soon as it
// passes it.
func (s *Store) TransactionsOf(ctx context.Context, client []byte, txids [][]byte, maxBytes int) ([]Record, error) {
	for _, id := range txids {
		if err := CheckTxID(id); err != nil {
			return nil, err
		}
	}
	sorted := slices.Clone(txids)
	slices.SortFunc(sorted, bytes.Compare)
	sorted = slices.CompactFunc(sorted, bytes.Equal)
	var recs []Record
	err := s.b.View(ctx, client, func(r Reader) error {
		recs = recs[:0] // View may run fn again
		total := 0
		for _, id := range sorted {
			rec, ok, err := r.Record(id)
			if err != nil {
				return err
			}
			if !ok || isUsageRecord(rec) {
				continue
			}
			recs = append(recs, rec)
			total += rec.Size()
			if maxBytes > 0 && total > maxBytes {
				return &TooLargeError{What: "transaction records", Entries: len(recs), Bytes: total, Limit: maxBytes}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// cut keeps the first entries of all that fit items and maxBytes (at least one),
// and reports whether any was left over.
func cut[T any](all []T, size func(T) int, items, maxBytes int) ([]T, bool) {
	n, total := 0, 0
	for n < len(all) && n < items {
		total += size(all[n])
		if n > 0 && maxBytes > 0 && total > maxBytes {
			break
		}
		n++
	}
	return all[:n:n], n < len(all)
}

func deleteHidden(kvs []KV, hide func(string) bool) []KV {
	if hide == nil {
		return kvs
	}
	return slices.DeleteFunc(kvs, func(kv KV) bool { return hide(kv.Key) })
}

func totalSize[T any](all []T, size func(T) int) int {
	n := 0
	for _, e := range all {
		n += size(e)
	}
	return n
}

// SeekStart returns where a ranged read seeks to: the later of prefixStart (the
// database key of the prefix) and the first database key after after (the
// database key of the last key already read; nil for none). A backend's database
// keys must sort as the keys they encode, as a common prefix followed by the key
// does.
func SeekStart(prefixStart, after []byte) []byte {
	if after == nil {
		return prefixStart
	}
	a := After(after)
	if bytes.Compare(a, prefixStart) > 0 {
		return a
	}
	return prefixStart
}
