package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// Roles of the three providers, by index.
const (
	rolledBack = 2 // restored from a snapshot taken before the second write
	tampered   = 1 // one stored value altered on disk
)

// The demo's data: what a signer would persist, in two rounds.
var (
	firstRound = []provider.KV{
		{Key: "demo/balance", Version: 0, Value: []byte("1000 sat")},
		{Key: "demo/channel", Version: 0, Value: []byte("commitment #1")},
		{Key: "demo/peer", Version: 0, Value: []byte("node 02ab...")},
	}
	secondRound = []provider.KV{
		{Key: "demo/balance", Version: 1, Value: []byte("750 sat")},
		{Key: "demo/channel", Version: 1, Value: []byte("commitment #2")},
		{Key: "demo/htlc", Version: 0, Value: []byte("htlc 250 sat")},
	}
	// tamperedKey is the value altered on the tampered provider.
	tamperedKey = "demo/peer"
)

// Options adjust Run; the zero value is what `lss-quorum demo` uses.
type Options struct {
	// Logger receives the providers' and the quorum client's logs; nil discards them.
	Logger *slog.Logger
	// Timeout bounds each call to a provider; 5s if zero.
	Timeout time.Duration
}

// Run plays the demo, writing its narration to w.
func Run(ctx context.Context, w io.Writer, opts Options) (err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	d := &run{w: w, opts: opts}

	d.section("Start three local LSS providers")
	network, err := testnet.Start(ctx, testnet.Config{N: 3, Logger: opts.Logger})
	if err != nil {
		return fmt.Errorf("starting the providers: %w", err)
	}
	defer func() {
		if cerr := network.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("stopping the providers: %w", cerr)
		}
	}()
	d.net = network.Providers()
	for _, p := range d.net {
		d.printf("  %s  %s  server_id %x\n", p.Name(), p.Addr(), p.ServerID())
	}
	d.printf("Each is a real lssd server with its own data directory and server key (in %s).\n", network.Dir())

	if d.key, err = secp256k1.GeneratePrivateKey(); err != nil {
		return err
	}
	d.printf("A new client key: client_id %x.\n", wire.PublicID(d.key))
	if err := d.newClient(ctx); err != nil {
		return err
	}
	defer func() { d.client.Close() }()
	d.printf("Quorum: N=%d, W=%d (a write needs %d acknowledgements), R=%d (a read needs %d verified replies).\n",
		d.client.N(), d.client.W(), d.client.W(), d.client.R(), d.client.R())

	if err := d.steps(ctx); err != nil {
		return err
	}
	return nil
}

// run is the state of one demo.
type run struct {
	w      io.Writer
	opts   Options
	net    []*testnet.Provider
	key    *secp256k1.PrivateKey
	client *quorum.Client
	n      int // sections printed
}

func (d *run) printf(format string, args ...any) { fmt.Fprintf(d.w, format, args...) }

func (d *run) section(title string) {
	d.n++
	d.printf("\n=== %d. %s ===\n", d.n, title)
}

// newClient creates the quorum client with every server_id pinned.
func (d *run) newClient(ctx context.Context) error {
	cfg := quorum.Config{
		ClientKey: d.key,
		Timeout:   d.opts.Timeout,
		// A generous grace: the demo wants every provider compared on each read,
		// and the grace ends as soon as the last one has answered.
		Grace:  d.opts.Timeout,
		Logger: d.opts.Logger,
	}
	for _, p := range d.net {
		cfg.Providers = append(cfg.Providers, quorum.ProviderConfig{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID(), Stock: p.BaseOnly()})
	}
	// As a signer opens it: Open settles what an earlier process left.
	c, _, err := quorum.Open(ctx, cfg)
	if err != nil {
		return err
	}
	d.client = c
	return nil
}

// settle waits for the writes the client left running (a put returns once W
// providers acknowledged it), so that every step starts from a quiet network.
func (d *run) settle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*d.opts.Timeout)
	defer cancel()
	return d.client.Settle(ctx)
}

// put writes kvs through the quorum and prints the outcome.
func (d *run) put(ctx context.Context, kvs []provider.KV) error {
	res, err := d.client.Put(ctx, kvs)
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	for _, kv := range kvs {
		d.printf("  put %-13s v%d = %q\n", kv.Key, kv.Version, kv.Value)
	}
	d.printf("  acknowledged by %v (%s mode)\n", res.Acked, res.Mode)
	return nil
}

// get reads prefix through the quorum, prints the entries and provider states,
// and checks the entries against want.
func (d *run) get(ctx context.Context, want []provider.KV) (*quorum.GetResult, error) {
	res, err := d.client.Get(ctx, "demo/")
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	for _, e := range res.Entries {
		d.printf("  %-13s v%d = %q\n", e.Key, e.Version, e.Value)
	}
	d.printf("  providers:\n")
	for _, s := range res.Providers {
		note := ""
		if len(s.RolledBack) > 0 {
			note = fmt.Sprintf(" (rolled back: holds %d key(s) below versions it confirmed before)", len(s.RolledBack))
		}
		d.printf("    %s: %s%s\n", s.Name, s.Status, note)
	}
	if err := sameEntries(res.Entries, want); err != nil {
		return nil, fmt.Errorf("the quorum returned the wrong data: %w", err)
	}
	return res, nil
}

// sameEntries checks that entries are exactly want (keys, versions and values).
func sameEntries(entries []provider.Entry, want []provider.KV) error {
	if len(entries) != len(want) {
		return fmt.Errorf("%d entries, want %d", len(entries), len(want))
	}
	for i, e := range entries {
		kv := want[i]
		if e.Key != kv.Key || e.Version != kv.Version || !bytes.Equal(e.Value, kv.Value) {
			return fmt.Errorf("entry %d is %q v%d %q, want %q v%d %q", i, e.Key, e.Version, e.Value, kv.Key, kv.Version, kv.Value)
		}
	}
	return nil
}

// latest is the newest version of every key of the rounds, in key order.
func latest(rounds ...[]provider.KV) []provider.KV {
	byKey := map[string]provider.KV{}
	for _, r := range rounds {
		for _, kv := range r {
			if old, ok := byKey[kv.Key]; !ok || kv.Version > old.Version {
				byKey[kv.Key] = kv
			}
		}
	}
	out := make([]provider.KV, 0, len(byKey))
	for _, kv := range byKey {
		out = append(out, kv)
	}
	slices.SortFunc(out, func(a, b provider.KV) int { return strings.Compare(a.Key, b.Key) })
	return out
}
