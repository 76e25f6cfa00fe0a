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
		N: mode.providers(), Dir: dir, Logger: logger, NoGroupCommit: mode == ModeNoGroup,
	})
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, network.Close()) }()
	env := Providers{Mode: quorumMode(mode), Logger: logger}
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
	return Run(ctx, env, mode, o)
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
			o := p.Options
			o.Workload = w
			logf(p.Log, "bench %s/%s: starting\n", w, m)
			r, err := RunLocal(ctx, m, o, p.Local)
			if err != nil {
				return Compare(results), fmt.Errorf("bench %s/%s: %w", w, m, err)
			}
			logf(p.Log, "bench %s/%s: %d transactions, %d errors in %.1fs\n", w, m, r.Transactions, r.Errors, r.Seconds)
			results = append(results, r)
		}
	}
	return Compare(results), nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}
