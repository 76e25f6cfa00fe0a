package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
)

// Generation names the state of one client's data and records as a paged read
// saw it: two pages read at the same Generation were read from the same state,
// so a listing whose pages all carry one Generation is one snapshot.
//
// Count is kept in the client's usage record and moves on in the same backend
// transaction as every write that changes the client's data or records (Put,
// Restore, Prepare, Commit, Abort, Fence, Prune; a call that changes nothing,
// such as committing a committed txid, leaves it). Epoch is drawn at random when
// the Store is made: a lazy commit (LazyUpdater) lost in a machine crash takes
// Count back, and a later write could bring it to a value a page was read at
// before the crash with other contents; the new process's Epoch tells the two
// apart.
type Generation struct {
	Epoch, Count uint64
}

// Bytes is the Generation as sent in a reply: Epoch then Count, 8 bytes each,
// big-endian. Clients compare it for equality only.
func (g Generation) Bytes() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), g.Epoch)
	return binary.BigEndian.AppendUint64(b, g.Count)
}

func newEpoch() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: no randomness for the generation epoch: " + err.Error())
	}
	return binary.BigEndian.Uint64(b[:])
}

// generation reads the client's generation in r's snapshot.
func (s *Store) generation(r Reader) (Generation, error) {
	rec, ok, err := r.Record(usageTxID)
	if err != nil || !ok {
		return Generation{Epoch: s.epoch}, err
	}
	_, n, err := decodeUsage(rec.Seal)
	return Generation{Epoch: s.epoch, Count: n}, err
}

// Generation returns the client's current generation (see Generation).
func (s *Store) Generation(ctx context.Context, client []byte) (Generation, error) {
	var g Generation
	err := s.b.View(ctx, client, func(r Reader) (err error) {
		g, err = s.generation(r)
		return err
	})
	return g, err
}
