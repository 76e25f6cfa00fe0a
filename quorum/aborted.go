package quorum

import (
	"cmp"
	"context"
	"encoding/hex"
	"maps"
	"slices"
	"time"
)

// The aborts this client decided.
//
// The commit rule decides a transaction aborted once it is fenced on N − W + 1
// participants and committed once prepared on W; among honest providers both
// cannot hold. A provider that lies about its own record breaks that: it
// answers the coordinator "aborted" (counted towards the abort) and later
// shows a recovery the prepare it was sent, validly sealed. With W − 1 honest
// providers still holding the transaction prepared (their Abort lost), that
// recovery would decide commit a put whose caller was told it failed. So the
// client remembers every abort it decides, as coordinator or in a recovery,
// and saves it in its watermark store (Watermarks.Aborted) before the put
// returns; a recovery it runs later decides such a transaction aborted
// whatever prepared views it meets. Only a commit proof outranks that memory:
// a proof exists only once some recovery decided commit, so the values are
// certified on a provider already, and the conflict is logged.
//
// The protection reaches what the memory reaches: this client, and later
// processes that load the same watermark store. A recovery run with another
// store (or none) still decides by the records alone (docs/design.md, "What is
// not protected").

const (
	// abortMemory is how long an abort is remembered: far longer than a
	// provider that missed the Abort stays away in practice, and than lssd
	// keeps decided records (seven days by default).
	abortMemory = 30 * 24 * time.Hour
	// maxAbortMemory bounds the aborts remembered (a definite abort is rare: a
	// conflict, or providers away); past it the oldest are forgotten.
	maxAbortMemory = 10_000
)

// abortLog maps each txid (hex) this client decided aborted to when (Unix
// seconds), and remembers which entries are not saved yet.
type abortLog struct {
	savedMap[int64]
}

// remember records that txid was decided aborted at.
func (l *abortLog) remember(txid []byte, at time.Time) {
	l.add(map[string]int64{hex.EncodeToString(txid): at.Unix()}, at)
}

// add adds aborts (txid in hex → Unix seconds), keeping the earliest time of
// each, and forgets those trimAborted drops at now.
func (l *abortLog) add(aborted map[string]int64, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.v == nil {
		l.v = make(map[string]int64)
		l.dirty = make(map[string]struct{})
	}
	for txid, at := range aborted {
		if old, ok := l.v[txid]; ok && old <= at {
			continue
		}
		l.v[txid] = at
		l.dirty[txid] = struct{}{}
	}
	trimAborted(l.v, now)
	maps.DeleteFunc(l.dirty, func(txid string, _ struct{}) bool { _, kept := l.v[txid]; return !kept })
}

// has reports whether txid was decided aborted by this client.
func (l *abortLog) has(txid []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.v[hex.EncodeToString(txid)]
	return ok
}

// trimAborted forgets the aborts older than abortMemory and, past
// maxAbortMemory, the oldest ones.
func trimAborted(aborted map[string]int64, now time.Time) {
	maps.DeleteFunc(aborted, func(_ string, at int64) bool { return now.Sub(time.Unix(at, 0)) > abortMemory })
	if len(aborted) <= maxAbortMemory {
		return
	}
	ids := slices.SortedFunc(maps.Keys(aborted), func(a, b string) int {
		return cmp.Or(cmp.Compare(aborted[a], aborted[b]), cmp.Compare(a, b))
	})
	for _, txid := range ids[:len(ids)-maxAbortMemory] {
		delete(aborted, txid)
	}
}

// rememberAbort records that this client decided txid aborted and saves it
// with the watermark (an error is logged and returned, as saveWatermarks does;
// the abort stays remembered in this process and is saved with the next save).
func (c *Client) rememberAbort(ctx context.Context, txid []byte) error {
	c.mark.aborts.remember(txid, time.Now())
	return c.saveWatermarks(ctx)
}

// withoutAbortMemory is s as the records alone decide it.
func (s TxStatus) withoutAbortMemory() *TxStatus {
	s.AbortedHere = false
	return &s
}

// preparedOn names the providers whose view is prepared, in order.
func preparedOn(views map[string]TxView) []string {
	var names []string
	for name, v := range views {
		if v == TxPrepared {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
