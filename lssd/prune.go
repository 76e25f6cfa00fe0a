package lssd

import (
	"context"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

// DefaultPruneInterval is how often decided transaction records past their
// retention are deleted.
const DefaultPruneInterval = 10 * time.Minute

// maxPruneClients bounds the set of clients the pruner remembers.
const maxPruneClients = 100_000

// pruner periodically deletes decided transaction records past the store's
// retention, for the clients that used transaction RPCs since the server started.
// A client whose records are all gone is forgotten. After a restart, a client's old
// records are pruned once it uses a transaction RPC again.
type pruner struct {
	store    *store.Store
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	clients map[string]struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

func newPruner(st *store.Store, interval time.Duration, log *slog.Logger) *pruner {
	return &pruner{store: st, interval: interval, log: log, clients: map[string]struct{}{}}
}

// note remembers a client that used a transaction RPC.
func (p *pruner) note(client []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.clients[string(client)]; !ok && len(p.clients) < maxPruneClients {
		p.clients[string(client)] = struct{}{}
	}
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
	p.mu.Lock()
	clients := make([]string, 0, len(p.clients))
	for c := range p.clients {
		clients = append(clients, c)
	}
	p.mu.Unlock()
	for _, c := range clients {
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
			p.mu.Lock()
			delete(p.clients, c)
			p.mu.Unlock()
		}
	}
}

func hexID(c string) string { return hex.EncodeToString([]byte(c)) }
