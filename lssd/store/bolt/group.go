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
}

// errLeaderPanicked is what the other callers of a batch get when a function in it
// panicked: the transaction was rolled back and nothing of the batch was written.
var errLeaderPanicked = errors.New("store/bolt: batch rolled back: a transaction in it panicked")

func (b *Backend) groupCommit(c *call) error {
	c.wake = make(chan bool, 1)
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if lead || <-c.wake {
		b.lead(c)
	}
	return c.err
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
		b.handOver()
		for _, c := range batch {
			if c != self {
				c.wake <- false
			}
		}
	}()
	b.commitBatch(batch)
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
// by the batch size.
func (b *Backend) commitBatch(batch []*call) {
	var live []*call
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		live = append(live, c)
	}
	for len(live) > 0 {
		spoiled := b.commitTogether(live)
		if spoiled < 0 {
			return
		}
		live = slices.Delete(live, spoiled, spoiled+1)
	}
}

// commitTogether runs calls one after another in one bolt transaction, so each
// sees the writes of those before it. A function that fails before writing
// anything leaves the transaction as it found it, and the batch goes on. One that
// fails after writing (or whose write bolt refused) would leave half its writes
// behind: the transaction is rolled back and that call's index returned, to try the
// batch again without it. Store's functions check everything before they write, so
// in practice every batch commits at the first try. It returns -1 once the batch
// has committed or failed as a whole.
func (b *Backend) commitTogether(calls []*call) int {
	if len(calls) == 1 {
		b.commitAlone(calls[0])
		return -1
	}
	spoiled := -1
	start := time.Now()
	err := b.db.Update(func(tx *bbolt.Tx) error {
		for i, c := range calls {
			t := newTxn(tx, c.client)
			c.err = c.fn(t)
			if c.err != nil && t.wrote {
				spoiled = i
				return c.err
			}
		}
		return nil
	})
	if spoiled >= 0 {
		return spoiled
	}
	if err != nil {
		for _, c := range calls {
			if c.err == nil {
				c.err = err
			}
		}
		return -1
	}
	b.committed(len(calls), start)
	return -1
}

// commitAlone runs one call in its own bolt transaction, which bolt rolls back if
// the function fails.
func (b *Backend) commitAlone(c *call) {
	start := time.Now()
	c.err = b.db.Update(func(tx *bbolt.Tx) error { return c.fn(newTxn(tx, c.client)) })
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
