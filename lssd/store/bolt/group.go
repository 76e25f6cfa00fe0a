package bolt

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

// Group commit. Callers queue their Update; a caller that finds no batch in
// progress becomes the leader: it takes everything queued, runs every function in
// one bolt write transaction, commits (one fsync) and wakes the others. Callers that
// arrive meanwhile queue up, and when the batch is done the first of them leads
// the next one. A lone writer therefore never waits, and under load each fsync
// carries everything that arrived during the previous one. Unlike bolt's own
// DB.Batch there is no timer to wait out.

// call is one Update on its way to a commit.
type call struct {
	ctx    context.Context
	client []byte
	fn     func(store.Txn) error
	err    error
	// wake tells a queued caller what to do: false when its batch is done (err is
	// set), true when it must lead the next batch.
	wake chan bool

	// A lazy call (UpdateLazy) is released before its batch's bolt commit: its
	// caller waits on released and reads lazyErr, never err (which the leader
	// may still set). ws is what its function wrote, published in the overlay
	// (published) until the batch's commit is over. Only the leader touches ws
	// and published.
	lazy      bool
	released  chan struct{}
	lazyErr   error
	ws        *writeSet
	published bool
}

// errLeaderPanicked is what the other callers of a batch get when a function in it
// panicked: the transaction was rolled back and nothing of the batch was written.
var errLeaderPanicked = errors.New("store/bolt: batch rolled back: a transaction in it panicked")

func (b *Backend) groupCommit(c *call) error {
	c.wake = make(chan bool, 1)
	lead := b.enqueue(c)
	if lead || <-c.wake {
		b.lead(c)
	}
	return c.err
}

// enqueue queues c for the next batch and says whether its caller must lead
// it; otherwise it tells a batch held open for company (commitTogether) that a
// call arrived.
func (b *Backend) enqueue(c *call) (lead bool) {
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead = !b.leading
	b.leading = true
	b.mu.Unlock()
	if !lead {
		select {
		case b.arrived <- struct{}{}:
		default:
		}
	}
	return lead
}

// lead commits what is queued as one batch, passes the lead on, and wakes the
// batch's other callers.
func (b *Backend) lead(self *call) {
	b.mu.Lock()
	batch := b.queue
	b.queue = nil
	b.mu.Unlock()

	finished := false
	defer func() {
		if !finished {
			for _, c := range batch {
				if c.err == nil {
					c.err = errLeaderPanicked
				}
			}
		}
		// The bolt commit is over: the file serves the lazy writes (or they are
		// lost with it), so the overlay drops them.
		b.unpublishLazy(batch)
		b.handOver()
		for _, c := range batch {
			if c != self {
				c.wake <- false
			}
		}
	}()
	b.commitBatch(&batch)
	finished = true
}

// handOver makes the first queued caller the next leader, or ends leadership when
// no one is waiting.
func (b *Backend) handOver() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.leading = false
		return
	}
	b.queue[0].wake <- true
}

// commitBatch commits the batch's live calls together. A call that spoils the
// shared transaction is dropped with its error and the rest are tried again, so
// one bad call cannot fail or leak into the others; the number of tries is bounded
// by the batch size. Calls that join a held batch (see commitTogether) are
// appended to *batch.
func (b *Backend) commitBatch(batch *[]*call) {
	live := liveCalls(*batch)
	for len(live) > 0 {
		var spoiled int
		live, spoiled = b.commitTogether(live, batch)
		if spoiled < 0 {
			return
		}
		live = slices.Delete(live, spoiled, spoiled+1)
	}
}

// liveCalls returns the calls whose context is not done, failing the others.
func liveCalls(calls []*call) []*call {
	var live []*call
	for _, c := range calls {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		live = append(live, c)
	}
	return live
}

// lazyHold bounds how long a batch of lazy calls only keeps its bolt
// transaction open for more calls, so that one fsync covers it and the writes
// that follow it (a commit is soon followed by the next prepare of its client).
// Its callers are released already; only durability waits.
const lazyHold = 5 * time.Millisecond

// commitTogether runs calls one after another in one bolt transaction, so each
// sees the writes of those before it. A function that fails before writing
// anything leaves the transaction as it found it, and the batch goes on. One that
// fails after writing (or whose write bolt refused) would leave half its writes
// behind: the transaction is rolled back and that call's index returned, to try the
// batch again without it. Store's functions check everything before they write, so
// in practice every batch commits at the first try. It returns the calls it ran
// and -1 once the batch has committed or failed as a whole.
//
// Once every function ran, the lazy calls are published and released. A batch
// of lazy calls only is then held open, up to lazyHold, for the calls queued
// meanwhile: they join it (appended to calls and *batch), and the first one
// that is not lazy ends the hold, so their fsync covers the lazy writes too.
func (b *Backend) commitTogether(calls []*call, batch *[]*call) ([]*call, int) {
	if len(calls) == 1 && !calls[0].lazy {
		b.commitAlone(calls[0])
		return calls, -1
	}
	calls = lazyFirst(calls)
	spoiled := -1
	start := time.Now()
	hold := time.NewTimer(b.hold)
	defer hold.Stop()
	err := b.db.Update(func(tx *bbolt.Tx) error {
		for from := 0; ; {
			for i := from; i < len(calls); i++ {
				c := calls[i]
				t := newTxn(tx, c.client)
				if c.lazy {
					t.ws = newWriteSet()
				}
				c.err = c.fn(t)
				if c.err != nil && t.wrote {
					spoiled = i
					return c.err
				}
				if c.lazy && c.err == nil && !c.isReleased() {
					c.ws = t.ws
				}
			}
			// Every function ran and none spoiled the transaction: the lazy calls
			// need not wait for the commit.
			if err := b.publishLazy(tx, calls); err != nil {
				return err
			}
			var more []*call
			if allLazy(calls) {
				more = b.awaitQueued(hold.C)
			}
			if len(more) == 0 {
				if b.beforeCommit != nil {
					return b.beforeCommit()
				}
				return nil
			}
			*batch = append(*batch, more...)
			from = len(calls)
			calls = append(calls, lazyFirst(liveCalls(more))...)
		}
	})
	if spoiled >= 0 {
		return calls, spoiled
	}
	if err != nil {
		b.journal.failed()
		for _, c := range calls {
			if c.err == nil {
				c.err = err
			}
		}
		return calls, -1
	}
	b.journal.committed()
	b.committed(len(calls), start)
	return calls, -1
}

// lazyFirst orders the lazy calls of a batch before the others, keeping the
// order within each. The calls of a batch were queued concurrently, none has
// returned, so any order is serializable; this one keeps a lazy call's writes
// from resting on a write of its batch that a crash may lose: its journal entry
// (journal.go) is replayed without them. (A held batch takes more calls only
// while all its calls are lazy, so the lazy ones stay first across joins.)
func lazyFirst(calls []*call) []*call {
	out := slices.Clone(calls)
	slices.SortStableFunc(out, func(a, b *call) int {
		switch {
		case a.lazy == b.lazy:
			return 0
		case a.lazy:
			return -1
		default:
			return 1
		}
	})
	return out
}

func allLazy(calls []*call) bool {
	for _, c := range calls {
		if !c.lazy {
			return false
		}
	}
	return true
}

// awaitQueued takes the calls queued for the next batch, waiting for one until
// done fires; nil if none came.
func (b *Backend) awaitQueued(done <-chan time.Time) []*call {
	for {
		b.mu.Lock()
		queued := b.queue
		b.queue = nil
		b.mu.Unlock()
		if len(queued) > 0 {
			return queued
		}
		select {
		case <-b.arrived:
		case <-done:
			return nil
		case <-b.closing:
			return nil
		}
	}
}

// commitAlone runs one call in its own bolt transaction, which bolt rolls back if
// the function fails. It never sees a lazy call: a lone lazy call is held open
// for company (commitTogether), and with group commit off UpdateLazy is Update.
func (b *Backend) commitAlone(c *call) {
	start := time.Now()
	c.err = b.db.Update(func(tx *bbolt.Tx) error {
		return c.fn(newTxn(tx, c.client))
	})
	if c.err == nil {
		b.committed(1, start)
	}
}

// committed counts a bolt write transaction that carried n Updates and started at
// start, and reports it to Options.OnCommit.
func (b *Backend) committed(n int, start time.Time) {
	b.commits.Add(1)
	if b.opts.OnCommit != nil {
		b.opts.OnCommit(n, time.Since(start))
	}
}
