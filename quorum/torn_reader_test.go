package quorum_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lssquorum/lss/quorum"
)

// tornReader reads one prefix over and over in the background, as a reader
// beside a writer would, and keeps the successful reads that whole rejects:
// half of an atomic put.
type tornReader struct {
	stop  context.CancelFunc
	wg    sync.WaitGroup
	mu    sync.Mutex
	reads int
	torn  []string
}

// readConcurrently starts a tornReader of prefix through c until ctx ends,
// finish is called or the test ends; failed reads are skipped (faults are the
// test's business).
func readConcurrently(ctx context.Context, t *testing.T, c *quorum.Client, prefix string, whole func(*quorum.GetResult) bool) *tornReader {
	ctx, stop := context.WithCancel(ctx)
	r := &tornReader{stop: stop}
	t.Cleanup(func() { stop(); r.wg.Wait() }) // also after a t.Fatal
	r.wg.Go(func() {
		for ctx.Err() == nil {
			res, err := c.Get(ctx, prefix)
			if err != nil {
				continue
			}
			r.mu.Lock()
			r.reads++
			if !whole(res) {
				r.torn = append(r.torn, fmt.Sprint(render(res.Entries)))
			}
			r.mu.Unlock()
		}
	})
	return r
}

// completed is the number of successful reads so far.
func (r *tornReader) completed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

// finish stops the reader and fails t if a read was torn or none completed.
func (r *tornReader) finish(t *testing.T) {
	t.Helper()
	r.stop()
	r.wg.Wait()
	switch {
	case len(r.torn) > 0:
		t.Errorf("%d of %d concurrent reads were torn, e.g. %s", len(r.torn), r.reads, r.torn[0])
	case r.reads == 0:
		t.Error("the concurrent reader never completed a read")
	default:
		t.Logf("%d concurrent reads, none torn", r.reads)
	}
}
