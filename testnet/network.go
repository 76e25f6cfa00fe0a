package testnet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Config describes a network to start.
type Config struct {
	// N is the number of providers, at least 1.
	N int
	// BaseOnly lists the indexes of providers that speak only the base protocol:
	// their extension RPCs answer Unimplemented, as a stock Rust lssd would.
	BaseOnly []int
	// Dir is the parent of the providers' data directories (Dir/p0, Dir/p1, ...)
	// and of snapshots; it is created if needed and kept on Close, so a network can
	// be started again on the same data. Empty means a fresh temporary directory
	// that Close removes.
	Dir string
	// Logger receives the servers' logs, each with a "provider" attribute; nil
	// discards them.
	Logger *slog.Logger
	// NoGroupCommit starts every server with group commit off, so each write pays
	// its own fsync (lssd.Options.GroupCommit false), for measuring what group
	// commit gains.
	NoGroupCommit bool
	// Database is the embedded database every server runs on: "bolt" (the
	// default when empty) or "pebble".
	Database string
	// MaxPageItems, when set, caps every server's pages of BoundGet and Status
	// (lssd --max-page-items), so a test can make listings span many pages.
	MaxPageItems int
	// Retention and PruneInterval, when set, are every server's retention of
	// decided transaction records and the interval of its pruner
	// (lssd.Options), so a test can have committed and fenced records
	// deleted while it runs, as a long-lived deployment does.
	Retention     time.Duration
	PruneInterval time.Duration
}

// validate reports the first problem with c.
func (c Config) validate() error {
	if c.N < 1 {
		return fmt.Errorf("testnet: N = %d, want at least 1", c.N)
	}
	switch c.Database {
	case "", "bolt", "pebble":
	default:
		return fmt.Errorf("testnet: database %q, want bolt or pebble", c.Database)
	}
	if c.Retention < 0 || c.PruneInterval < 0 {
		return fmt.Errorf("testnet: Retention = %v, PruneInterval = %v: want 0 (the default) or more", c.Retention, c.PruneInterval)
	}
	seen := make(map[int]bool, len(c.BaseOnly))
	for _, i := range c.BaseOnly {
		if i < 0 || i >= c.N {
			return fmt.Errorf("testnet: BaseOnly index %d out of range [0, %d)", i, c.N)
		}
		if seen[i] {
			return fmt.Errorf("testnet: BaseOnly index %d listed twice", i)
		}
		seen[i] = true
	}
	return nil
}

// Network is a running set of providers.
type Network struct {
	providers []*Provider
	dir       string
	removeDir bool

	closeOnce sync.Once
	closeErr  error
}

// Start starts cfg.N providers, each a real lssd on 127.0.0.1 with a bolt store in
// its own data directory and a proxy in front. On error, whatever was started is
// stopped again.
func Start(ctx context.Context, cfg Config) (*Network, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Network{dir: cfg.Dir}
	if n.dir == "" {
		dir, err := os.MkdirTemp("", "lss-testnet-")
		if err != nil {
			return nil, fmt.Errorf("testnet: %w", err)
		}
		n.dir, n.removeDir = dir, true
	}
	snaps := &snapshotStore{root: filepath.Join(n.dir, "snapshots")}
	if err := os.MkdirAll(snaps.root, 0o700); err != nil {
		return nil, errors.Join(fmt.Errorf("testnet: %w", err), n.Close())
	}

	for i := range cfg.N {
		name := fmt.Sprintf("p%d", i)
		dataDir := filepath.Join(n.dir, name)
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, errors.Join(fmt.Errorf("testnet: %w", err), n.Close())
		}
		plog := logger.With("provider", name)
		px, err := newProxy(plog)
		if err != nil {
			return nil, errors.Join(err, n.Close())
		}
		n.providers = append(n.providers, &Provider{
			index:    i,
			name:     name,
			dataDir:  dataDir,
			baseOnly: slices.Contains(cfg.BaseOnly, i),
			noGroup:  cfg.NoGroupCommit,
			database: cmp.Or(cfg.Database, "bolt"),
			pageMax:  cfg.MaxPageItems,
			retain:   cfg.Retention,
			prune:    cfg.PruneInterval,
			logger:   plog,
			proxy:    px,
			snaps:    snaps,
		})
	}

	g, gctx := errgroup.WithContext(ctx)
	for _, p := range n.providers {
		g.Go(func() error {
			p.ops.Lock()
			defer p.ops.Unlock()
			return p.start(gctx)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

// Providers returns the providers, in index order.
func (n *Network) Providers() []*Provider { return slices.Clone(n.providers) }

// Dir is the directory holding the providers' data directories.
func (n *Network) Dir() string { return n.dir }

// Close stops every server and proxy, waits for their goroutines, and removes the
// directory if Start created it. Calling it again returns the first result.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		var wg sync.WaitGroup
		errs := make([]error, len(n.providers))
		for i, p := range n.providers {
			wg.Go(func() { errs[i] = p.close() })
		}
		wg.Wait()
		if n.removeDir {
			errs = append(errs, os.RemoveAll(n.dir))
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}
