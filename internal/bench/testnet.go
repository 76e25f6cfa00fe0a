package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// Local says where RunLocal starts its test networks.
type Local struct {
	// Dir is the parent of the networks' data directories; empty means the
	// system's temporary directory. Each network's data is removed when its run
	// ends. It should be on the disk being measured: fsync is the cost.
	Dir string
	// Logger receives the servers' and the quorum client's logs; nil discards
	// them.
	Logger *slog.Logger
	// Database is the servers' embedded database, "bolt" (the default when
	// empty) or "pebble"; see Databases.
	Database string
}

// RunLocal runs the workload in mode on a fresh testnet of real lssd servers
// started for it (one provider, or three for the quorum modes; group commit off
// for ModeNoGroup; the last provider slowed by SlowLatency for ModeSlow), then
// stops the network and removes its data. Writers reach the servers directly,
// except the slowed one, which they reach through the testnet's proxy.
func RunLocal(ctx context.Context, mode Mode, o Options, l Local) (res Result, err error) {
	if _, ok := modeNames[mode]; !ok {
		return Result{}, fmt.Errorf("bench: unknown mode %d", int(mode))
	}
	logger := l.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp(l.Dir, "lss-bench-"+mode.String()+"-")
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()

	network, err := testnet.Start(ctx, testnet.Config{
		N: mode.providers(), Dir: dir, Logger: logger, NoGroupCommit: mode == ModeNoGroup, Database: l.database(),
	})
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, network.Close()) }()
	env := Providers{Mode: quorumMode(mode), Logger: logger, DisableEncryption: mode == ModeNoEncrypt}
	ps := network.Providers()
	for i, p := range ps {
		// The testnet's proxy copies every byte through two more goroutines and
		// costs a large share of the throughput on a small machine; only the
		// slowed provider needs it.
		addr := p.ServerAddr()
		if mode == ModeSlow && i == len(ps)-1 {
			p.SetLatency(SlowLatency)
			addr = p.Addr()
		}
		env.Providers = append(env.Providers, quorum.ProviderConfig{Name: p.Name(), Addr: addr, ServerID: p.ServerID(), Stock: p.BaseOnly()})
	}
	res, err = Run(ctx, env, mode, o)
	res.Database = l.database()
	return res, err
}

// quorumMode is how the quorum modes write.
func quorumMode(m Mode) quorum.Mode {
	if m == ModePlain {
		return quorum.ModePlain
	}
	return quorum.ModeAtomic
}

// Plan is a comparison: every workload in every mode.
type Plan struct {
	Workloads []Workload
	Modes     []Mode
	// Options apply to every run; their Workload is overridden.
	Options Options
	Local   Local
	// Databases, if set, runs every mode once on each of these databases, one
	// after the other, overriding Local.Database, so that they are compared
	// under the same conditions.
	Databases []string
	// Log receives one line as each run starts and ends; nil for none.
	Log io.Writer
}

// RunPlan runs every workload of p in every mode of p, one after the other, each
// on its own testnet (RunLocal), and returns the results with their ratios
// against the one-provider runs (Compare). It stops at the first run that fails
// to run, returning the results so far.
func RunPlan(ctx context.Context, p Plan) ([]Result, error) {
	var results []Result
	for _, w := range p.Workloads {
		for _, m := range p.Modes {
			for _, l := range p.locals() {
				o := p.Options
				o.Workload = w
				name := fmt.Sprintf("%s/%s", w, m)
				if len(p.Databases) > 1 {
					name += "/" + l.database()
				}
				logf(p.Log, "bench %s: starting\n", name)
				r, err := RunLocal(ctx, m, o, l)
				if err != nil {
					return Compare(results), fmt.Errorf("bench %s: %w", name, err)
				}
				logf(p.Log, "bench %s: %d transactions, %d errors in %.1fs\n", name, r.Transactions, r.Errors, r.Seconds)
				results = append(results, r)
			}
		}
	}
	return Compare(results), nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}
