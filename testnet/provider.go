package testnet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lssquorum/lss/lssd"
)

// stopTimeout bounds a graceful stop that a fault injection without a context
// (Snapshot) or Close performs; past it the server is killed.
const stopTimeout = 10 * time.Second

// ErrClosed is returned when a provider would start after Network.Close.
var ErrClosed = errors.New("testnet: network closed")

// Provider is one lssd server of a Network with the proxy in front of it. Its
// methods are safe for concurrent use; fault injections on one provider run one
// at a time.
type Provider struct {
	index    int
	name     string
	dataDir  string
	baseOnly bool
	noGroup  bool
	database string        // "bolt" or "pebble"
	pageMax  int           // lssd Limits.MaxPageItems; 0 for the default
	retain   time.Duration // lssd Options.Retention; 0 for the default
	prune    time.Duration // lssd Options.PruneInterval; 0 for the default
	logger   *slog.Logger
	proxy    *proxy
	snaps    *snapshotStore

	// ops serialises the lifecycle operations (stop, start, snapshot, tamper...),
	// which take seconds at worst, while mu guards the fields and is held briefly.
	ops      sync.Mutex
	mu       sync.Mutex
	daemon   *lssd.Daemon // nil while stopped
	serverID []byte
	closed   bool // set by Network.Close: the server may not start again
}

// Index is the provider's position in Network.Providers.
func (p *Provider) Index() int { return p.index }

// Name is the provider's short name, "p" followed by its index.
func (p *Provider) Name() string { return p.name }

// Addr is the stable address clients dial: the proxy's, which stays the same
// across restarts even though the server behind it gets a new port each time.
func (p *Provider) Addr() string { return p.proxy.addr() }

// ServerAddr is the address the server itself listens on, behind the proxy, or
// "" while it is stopped. Calls to it skip the proxy's copying, so benchmarks use
// it, but no network fault reaches them and it changes on every restart: use
// Addr unless faults are not wanted.
func (p *Provider) ServerAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.daemon == nil {
		return ""
	}
	return p.daemon.Addr()
}

// ServerID is the server's 33-byte public key, as Info reports it. It is kept
// across restarts because the key lives in the data directory.
func (p *Provider) ServerID() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.serverID)
}

// DataDir is the server's data directory.
func (p *Provider) DataDir() string { return p.dataDir }

// BaseOnly reports whether the server speaks only the base protocol (its extension
// RPCs answer Unimplemented).
func (p *Provider) BaseOnly() bool { return p.baseOnly }

// GroupCommit reports whether the server commits concurrent writes with one
// fsync (lssd.Options.GroupCommit); Config.NoGroupCommit turns it off.
func (p *Provider) GroupCommit() bool { return !p.noGroup }

// Running reports whether the server is up (whatever the proxy is doing).
func (p *Provider) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.daemon != nil
}

// Stop stops the server gracefully, keeping its data. Until Restart, connections
// to Addr are reset at once. Stopping a stopped provider does nothing.
func (p *Provider) Stop(ctx context.Context) error {
	p.ops.Lock()
	defer p.ops.Unlock()
	return p.stop(ctx)
}

// Crash kills the server abruptly, as a crash of its process would: connections
// drop and in-flight calls are cancelled, and only what the store already made
// durable remains. Crashing a stopped provider does nothing.
func (p *Provider) Crash() error {
	p.ops.Lock()
	defer p.ops.Unlock()
	d := p.detach()
	if d == nil {
		return nil
	}
	err := d.Kill()
	p.proxy.dropAll()
	if err != nil {
		return fmt.Errorf("testnet: crash %s: %w", p.name, err)
	}
	p.logger.Info("provider crashed")
	return nil
}

// Restart starts the server again on the same data directory, so with the same
// server key and data; a running server is stopped gracefully first. It fails if
// the server comes back with another server_id.
func (p *Provider) Restart(ctx context.Context) error {
	p.ops.Lock()
	defer p.ops.Unlock()
	if err := p.stop(ctx); err != nil {
		return err
	}
	return p.start(ctx)
}

// SetLatency makes the proxy hold every chunk of bytes it forwards, in each
// direction, for d before passing it on (order kept), so each call takes at least
// d longer. Zero removes the latency.
func (p *Provider) SetLatency(d time.Duration) {
	p.proxy.setLatency(d)
	p.logger.Info("provider latency set", "latency", d)
}

// Cut drops every current connection to the provider and resets new ones at once,
// until Heal. The server itself keeps running.
func (p *Provider) Cut() {
	p.proxy.setCut()
	p.logger.Info("provider cut off")
}

// Blackhole makes the provider never answer: connections are accepted, or kept,
// but nothing is forwarded either way until Heal, so calls wait for their
// deadline.
func (p *Provider) Blackhole() {
	p.proxy.blackhole()
	p.logger.Info("provider blackholed")
}

// Heal undoes Cut and Blackhole. Connections held by a blackhole resume intact.
func (p *Provider) Heal() {
	p.proxy.heal()
	p.logger.Info("provider healed")
}

// start starts the server on the data directory and points the proxy at it.
// The caller holds p.ops.
func (p *Provider) start(ctx context.Context) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return fmt.Errorf("testnet: start %s: %w", p.name, ErrClosed)
	}
	opts := lssd.DefaultOptions()
	opts.Interface = "127.0.0.1"
	opts.Port = 0
	opts.DataDir = p.dataDir
	opts.Database = p.database
	opts.BaseOnly = p.baseOnly
	opts.GroupCommit = !p.noGroup
	opts.Logger = p.logger
	opts.Limits.MaxPageItems = p.pageMax
	if p.retain > 0 {
		opts.Retention = p.retain
	}
	if p.prune > 0 {
		opts.PruneInterval = p.prune
	}
	d, err := lssd.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("testnet: start %s: %w", p.name, err)
	}
	id := d.ServerID()
	p.mu.Lock()
	if p.serverID != nil && !bytes.Equal(id, p.serverID) {
		p.mu.Unlock()
		_ = d.Kill()
		return fmt.Errorf("testnet: %s restarted with server_id %x, want %x: its key was not kept", p.name, id, p.serverID)
	}
	p.serverID = bytes.Clone(id)
	p.daemon = d
	p.mu.Unlock()
	p.proxy.setBackend(d.Addr())
	p.logger.Info("provider started", "addr", p.Addr(), "server_addr", d.Addr(), "server_id", hex.EncodeToString(id), "base_only", p.baseOnly, "group_commit", !p.noGroup)
	return nil
}

// stop stops the server gracefully. The caller holds p.ops.
func (p *Provider) stop(ctx context.Context) error {
	d := p.detach()
	if d == nil {
		return nil
	}
	if p.proxy.isBlackholed() {
		// A graceful stop waits for clients to acknowledge its GOAWAY, which they
		// never receive through a blackhole; cut them off instead.
		p.proxy.dropAll()
	}
	err := d.Stop(ctx)
	// A graceful stop closes the server's connections itself; dropping what is left
	// makes sure no client stays attached to a server that is gone.
	p.proxy.dropAll()
	if err != nil {
		// The server must not stay half-running on the data directory.
		_ = d.Kill()
		return fmt.Errorf("testnet: stop %s: %w", p.name, err)
	}
	p.logger.Info("provider stopped")
	return nil
}

// detach turns the proxy away from the server, so new connections fail fast, and
// hands the running daemon (or nil) to the caller to stop.
func (p *Provider) detach() *lssd.Daemon {
	p.proxy.setBackend("")
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.daemon
	p.daemon = nil
	return d
}

// whileStopped runs fn with the server stopped, then starts it again if it was
// running. The caller holds p.ops.
func (p *Provider) whileStopped(ctx context.Context, fn func() error) error {
	wasRunning := p.Running()
	if err := p.stop(ctx); err != nil {
		return err
	}
	err := fn()
	if wasRunning {
		if serr := p.start(ctx); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return err
}

// close stops the proxy and the server (killing it if a graceful stop does not
// finish in time). The proxy goes first: with no client left, the graceful stop
// has nothing to wait for.
func (p *Provider) close() error {
	p.ops.Lock()
	defer p.ops.Unlock()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	perr := p.proxy.close()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	return errors.Join(perr, p.stop(ctx))
}
