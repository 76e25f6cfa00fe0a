package lssd

import (
	"context"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

// DefaultPruneInterval is how often decided transaction records past their
// retention are deleted.
const DefaultPruneInterval = 10 * time.Minute

// maxPruneClients bounds the set of clients the pruner remembers. When full, the
// client that least recently used a transaction RPC is forgotten first: only
// authenticated clients are noted, and one in steady use stays; a forgotten client
// is noted again (and pruned) on its next transaction RPC.
const maxPruneClients = 100_000

// pruner periodically deletes decided transaction records past the store's
// retention, for the clients that used transaction RPCs since the server started.
// A client whose records are all gone is forgotten. After a restart, a client's old
// records are pruned once it uses a transaction RPC again.
type pruner struct {
	store    *store.Store
	interval time.Duration
	log      *slog.Logger

	clients *lru[string, struct{}]

	cancel context.CancelFunc
	done   chan struct{}
}

func newPruner(st *store.Store, interval time.Duration, log *slog.Logger) *pruner {
	return newPrunerSize(st, interval, log, maxPruneClients)
}

func newPrunerSize(st *store.Store, interval time.Duration, log *slog.Logger, max int) *pruner {
	return &pruner{store: st, interval: interval, log: log, clients: newLRU[string, struct{}](max)}
}

// note remembers a client that used a transaction RPC.
func (p *pruner) note(client []byte) {
	p.clients.put(string(client), struct{}{})
}

// start runs the pruning loop until stop.
func (p *pruner) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.pruneAll(ctx)
			}
		}
	}()
}

// stop ends the loop and waits for it, including a pass in progress.
func (p *pruner) stop() {
	if p.cancel != nil {
		p.cancel()
		<-p.done
	}
}

func (p *pruner) pruneAll(ctx context.Context) {
	for _, c := range p.clients.keys() {
		if ctx.Err() != nil {
			return
		}
		n, err := p.store.Prune(ctx, []byte(c))
		if err != nil {
			p.log.Warn("pruning transaction records failed", "client_id", hexID(c), "err", err)
			continue
		}
		if n > 0 {
			p.log.Info("pruned decided transaction records", "client_id", hexID(c), "count", n)
		}
		if recs, err := p.store.Transactions(ctx, []byte(c)); err == nil && len(recs) == 0 {
			p.clients.remove(c)
		}
	}
}

func hexID(c string) string { return hex.EncodeToString([]byte(c)) }
