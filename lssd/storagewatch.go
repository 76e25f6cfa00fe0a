package lssd

import (
	"context"
	"log/slog"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

// DefaultStorageCheckInterval is how often lssd reads from its store to
// report, through the health service, whether its database answers.
const DefaultStorageCheckInterval = 5 * time.Second

// storageCheckClient is the namespace the check reads. No client owns it: a
// client_id is a public key of 33 or 65 bytes.
var storageCheckClient = []byte("lssd storage check")

// storageWatch reads from the store every interval and reports the daemon
// NOT_SERVING while that read fails, SERVING again once one succeeds. A
// database server that is down or unreachable (postgres, etcd) then shows in
// the health check that load balancers and monitors read, not only in the
// UNAVAILABLE answers of the calls that meet it. Each read is bounded by the
// interval (at least minStorageCheckTimeout).
type storageWatch struct {
	store    *store.Store
	health   *healthService
	interval time.Duration
	log      *slog.Logger
	cancel   context.CancelFunc
	done     chan struct{}
}

// start runs the checks until stop.
func (w *storageWatch) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		t := time.NewTicker(w.interval)
		defer t.Stop()
		healthy := true
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := w.check(ctx)
			if ctx.Err() != nil {
				return // stopping: the failed read says nothing of the database
			}
			switch {
			case err != nil && healthy:
				w.log.Error("the store does not answer: reporting NOT_SERVING until it does", "err", err)
			case err == nil && !healthy:
				w.log.Info("the store answers again: reporting SERVING")
			default:
				continue
			}
			healthy = err == nil
			w.health.setServing(healthy)
		}
	}()
}

// minStorageCheckTimeout is the least time a check's read gets, however short
// the interval: a loaded database that answers slowly is not down.
const minStorageCheckTimeout = 2 * time.Second

// check reads the check namespace once.
func (w *storageWatch) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, max(w.interval, minStorageCheckTimeout))
	defer cancel()
	_, err := w.store.Get(ctx, storageCheckClient, "")
	return err
}

// stop ends the checks and waits for the one in progress.
func (w *storageWatch) stop() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
	}
}
