package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// Writer is one benchmark client, with its own client key and connections.
type Writer interface {
	// Put writes kvs and returns once they are acknowledged.
	Put(ctx context.Context, kvs []provider.KV) error
	// Get reads every key under prefix and returns how many there are.
	Get(ctx context.Context, prefix string) (int, error)
	// Close releases the connections, waiting for work left running.
	Close() error
}

// Env makes the writers of one mode.
type Env interface {
	// NewWriter connects a writer with a fresh client key.
	NewWriter(ctx context.Context) (Writer, error)
}

// Providers is an Env over the given providers: with one provider, writers use
// the provider client directly; with more, the quorum client in the given mode
// (plain or atomic). Logger receives the quorum client's background logs.
type Providers struct {
	Providers []quorum.ProviderConfig
	// Mode is the quorum's write mode; ignored with one provider.
	Mode quorum.Mode
	// W and R are the quorum sizes; 0 means a majority.
	W, R int
	// DisableEncryption turns the quorum client's value encryption off.
	DisableEncryption bool
	// Timeout bounds each call to one provider; quorum.DefaultTimeout if zero.
	Timeout time.Duration
	// Logger receives background logs; nil discards them.
	Logger *slog.Logger
}

// NewWriter implements Env.
func (p Providers) NewWriter(ctx context.Context) (Writer, error) {
	if len(p.Providers) == 0 {
		return nil, errors.New("bench: no providers")
	}
	key, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("bench: client key: %w", err)
	}
	timeout := p.Timeout
	if timeout == 0 {
		timeout = quorum.DefaultTimeout
	}
	logger := p.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(p.Providers) == 1 {
		pc := p.Providers[0]
		c, err := provider.Dial(ctx, provider.Options{
			Addr: pc.Addr, Name: pc.Name, ServerID: pc.ServerID, TLS: pc.TLS, ClientKey: key,
		})
		if err != nil {
			return nil, err
		}
		return &directWriter{c: c, timeout: timeout}, nil
	}
	c, err := quorum.New(ctx, quorum.Config{
		Providers: p.Providers, ClientKey: key, W: p.W, R: p.R, Timeout: timeout, Mode: p.Mode, Logger: logger,
		DisableEncryption: p.DisableEncryption,
	})
	if err != nil {
		return nil, err
	}
	return &quorumWriter{c: c}, nil
}

// directWriter writes to one provider with the provider client.
type directWriter struct {
	c       *provider.Client
	timeout time.Duration
}

func (w *directWriter) Put(ctx context.Context, kvs []provider.KV) error {
	// The quorum client bounds each provider call by its Timeout; bound the
	// direct call the same way so both modes give up alike.
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	return w.c.Put(ctx, kvs)
}

func (w *directWriter) Get(ctx context.Context, prefix string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	es, err := w.c.Get(ctx, prefix)
	return len(es), err
}

func (w *directWriter) Close() error { return w.c.Close() }

// quorumWriter writes through the quorum client.
type quorumWriter struct{ c *quorum.Client }

func (w *quorumWriter) Put(ctx context.Context, kvs []provider.KV) error {
	_, err := w.c.Put(ctx, kvs)
	return err
}

func (w *quorumWriter) Get(ctx context.Context, prefix string) (int, error) {
	res, err := w.c.Get(ctx, prefix)
	if err != nil {
		return 0, err
	}
	return len(res.Entries), nil
}

func (w *quorumWriter) Close() error { return w.c.Close() }
