package quorum

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/quorum/envelope"
)

// Client reads and writes one client's state on a quorum of providers. It is safe
// for concurrent use. Close it to wait for the work it leaves running (late put
// replies, background repairs) and release the connections.
type Client struct {
	cfg     Config
	members []*member
	n, w, r int
	timeout time.Duration
	grace   time.Duration
	log     *slog.Logger
	mark    clientMarks
	// cipher encrypts the values of puts and decrypts those of gets (encrypt.go).
	cipher *envelope.Cipher

	mu     sync.Mutex
	closed bool
	// bg tracks goroutines that outlive the call that started them, and running
	// holds a channel per such goroutine, closed when it ends, for Settle.
	bg      sync.WaitGroup
	running map[chan struct{}]struct{}
	// repairing names the providers with a background repair running, so a burst
	// of Gets starts at most one repair per provider.
	repairing map[string]bool
	// order makes enqueueing one put's writes on every provider's queue atomic,
	// so the queues agree on the order of puts with overlapping keys.
	order sync.Mutex
	// cert holds the keys derived from the HMAC secret: value MAC v2, commit
	// proofs, prepare seals.
	cert *wire.Certifier
	// settler finishes decided transactions in the background.
	settler        settler
	settleDeadline time.Duration
	// test holds hooks that only tests set.
	test testHooks
}

// New validates cfg and prepares a client. It does not require any provider to
// be up: each provider is dialed on first use and redialed on later calls until
// it answers, every attempt bounded by the call's deadline. A provider whose
// server_id is not the pinned one is reported as faulty by every call.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.ClientKey == nil {
		return nil, fmt.Errorf("%w: no client key", ErrConfig)
	}
	names, err := providerNames(cfg.Providers)
	if err != nil {
		return nil, err
	}
	n := len(cfg.Providers)
	w, r, err := quorumSizes(n, cfg.W, cfg.R)
	if err != nil {
		return nil, err
	}
	if cfg.HMACSecret == nil {
		s := wire.CLIHMACSecret(cfg.ClientKey)
		cfg.HMACSecret = s[:]
	} else if len(cfg.HMACSecret) != wire.SecretSize {
		return nil, fmt.Errorf("%w: HMAC secret is %d bytes, want %d", ErrConfig, len(cfg.HMACSecret), wire.SecretSize)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative timeout %v", ErrConfig, cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.SettleDeadline < 0 {
		return nil, fmt.Errorf("%w: negative settle deadline %v", ErrConfig, cfg.SettleDeadline)
	}
	if cfg.SettleDeadline == 0 {
		cfg.SettleDeadline = DefaultSettleDeadline
	}
	if cfg.Mode < ModeAuto || cfg.Mode > ModeAtomic {
		return nil, fmt.Errorf("%w: unknown mode %d", ErrConfig, int(cfg.Mode))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	for i, p := range cfg.Providers {
		if p.ServerID != nil {
			if _, err := wire.ParsePublicKey(p.ServerID); err != nil {
				return nil, fmt.Errorf("%w: provider %s: pinned server_id: %v", ErrConfig, names[i], err)
			}
			for j := range i {
				if bytes.Equal(cfg.Providers[j].ServerID, p.ServerID) {
					return nil, fmt.Errorf("%w: providers %s and %s pin the same server_id: one server cannot count twice towards a quorum",
						ErrConfig, names[j], names[i])
				}
			}
		}
	}
	if err := checkAtomicMode(cfg.Mode, cfg.Providers, names, w); err != nil {
		return nil, err
	}
	cipher, err := newCipher(cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg: cfg, n: n, w: w, r: r,
		timeout:        cfg.Timeout,
		grace:          max(cfg.Grace, 0),
		log:            cfg.Logger,
		repairing:      make(map[string]bool),
		settler:        newSettler(),
		cert:           wire.NewCertifier(cfg.HMACSecret),
		settleDeadline: cfg.SettleDeadline,
		cipher:         cipher,
	}
	for i, p := range cfg.Providers {
		c.members = append(c.members, newMember(names[i], p, cfg))
	}
	if err := c.loadWatermarks(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// N is the number of providers.
func (c *Client) N() int { return c.n }

// W is the write quorum: how many providers must acknowledge a Put.
func (c *Client) W() int { return c.w }

// R is the read quorum: how many valid replies a Get needs.
func (c *Client) R() int { return c.r }

// Providers names the providers in configuration order.
func (c *Client) Providers() []string {
	names := make([]string, len(c.members))
	for i, m := range c.members {
		names[i] = m.name
	}
	return names
}

// Close waits for the work the client left running (puts still in flight, each
// call bounded by Config.Timeout: a plain write one, an atomic put's part on a
// provider two, its prepare and its commit; and background repairs), gives the background
// settler one last attempt at the transactions it still holds (bounded by
// Config.Timeout; what remains is logged and left to the next Open or
// lss-quorum recover), then closes every connection. Calls after Close fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	// The settler stops the attempt it is making, makes one last one (bounded
	// by Config.Timeout) and hands what is left to recovery, logging it.
	c.settler.close()
	c.bg.Wait()
	// What the late writes and repairs confirmed is saved too.
	first := c.saveWatermarks(context.Background())
	for _, m := range c.members {
		if err := m.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// goBackground runs fn in a goroutine that Close waits for, or reports false
// when the client is closed.
func (c *Client) goBackground(fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.startLocked(fn)
	return true
}

// goSettler runs the settler loop as background work that Close waits for
// (after telling it to stop) but Settle does not: the loop may retry for up to
// Config.SettleDeadline, and Settle makes its own attempt instead.
func (c *Client) goSettler(fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.bg.Go(fn)
	return true
}

// goBackgroundAll runs every fn as tracked background work, or none of them
// (reporting false) when the client is closed.
func (c *Client) goBackgroundAll(fns []func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	for _, fn := range fns {
		c.startLocked(fn)
	}
	return true
}

// startLocked runs fn as tracked background work. The caller holds c.mu and has
// checked that the client is open.
func (c *Client) startLocked(fn func()) {
	if c.running == nil {
		c.running = make(map[chan struct{}]struct{})
	}
	done := make(chan struct{})
	c.running[done] = struct{}{}
	c.bg.Go(func() {
		defer func() {
			c.mu.Lock()
			delete(c.running, done)
			c.mu.Unlock()
			close(done)
		}()
		fn()
	})
}

// Settle waits until the work the client had left running when Settle was
// called is finished: writes still in flight after their Put returned (each
// bounded by Config.Timeout) and background repairs; then it makes one attempt
// (each call bounded by Config.Timeout) at every transaction the background
// settler still holds, which stay with the settler if a provider still fails. Unlike Close it keeps the
// client open. It returns ctx's error if ctx ends first.
//
// A caller that needs every reachable provider to hold its last write before
// going on (a signer about to shut down, a tool that exits, a test) settles
// first; Put itself never waits for more than W providers.
func (c *Client) Settle(ctx context.Context) error {
	c.mu.Lock()
	pending := make([]chan struct{}, 0, len(c.running))
	for done := range c.running {
		pending = append(pending, done)
	}
	c.mu.Unlock()
	for _, done := range pending {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// One attempt now at every transaction the settler still holds.
	c.settleDue(ctx, nil, func(*settleJob) bool { return true })
	return ctx.Err()
}

// checkOpen fails with ErrClosed once Close was called.
func (c *Client) checkOpen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return nil
}
