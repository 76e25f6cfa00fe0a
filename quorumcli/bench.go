package quorumcli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/internal/bench"
	"github.com/lssquorum/lss/quorum"
)

// benchFlags are the bench command's settings as given on the command line.
type benchFlags struct {
	workloads   string
	modes       string
	rounds      int
	writers     int
	getEvery    int
	maxDuration time.Duration
	dir         string
	plot        string
	databases   string
	testnet     bool
	json        bool
	compare     bool
}

func newBenchCommand(g *globals) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure one provider against quorums of three, under a provider load and a signer's",
		Long: `bench runs a workload in several deployment modes, one after the other, and
prints transactions/s, items/s and put latency percentiles (p50, p90, p99) for each.

Workloads (--workload, comma-separated):
  provider  --writers concurrent clients (32), each putting --rounds transactions
            (100) of 64 keys with 128-byte values, alternately inserting new keys
            at version 0 and updating the previous transaction's keys to version 1.
  signer    one client putting 4 keys of 2 KiB at their next version, --rounds
            times (1000), one put after the other, with a full get of its prefix
            every --get-every puts (10); the get latency is reported too.

Modes (--modes, comma-separated; all by default):
  one       one provider, written with the provider client directly (the floor)
  plain     a quorum of three, base-protocol puts
  atomic    a quorum of three, atomic commit (prepare, then commit)
  slow      atomic, with one of the three providers slowed by 50 ms
  nogroup   one provider with group commit off (compare with one)
  noencrypt atomic with the values not encrypted (compare with atomic: what
            value encryption costs)

By default (--testnet) each mode runs on a fresh local network of real lssd
servers started for it, with their data in --dir (the system's temporary
directory by default; put it on the disk you want to measure) and removed
afterwards, on the embedded database --database names (bolt by default; a
comma-separated list such as bolt,pebble runs every mode on each, one after the
other, and adds a database column). With an explicit --config (or --testnet=false, which reads the
default configuration) the configured providers are measured instead, in a
single mode: one (the first provider), plain or atomic. Every writer uses a
fresh client key, so the configured client's own data is never touched.

--compare adds each mode's ratios against the one-provider run and checks the
performance targets (quorum throughput, atomic against plain, slow-provider
latency, group commit, signer latency). --json prints one JSON object per
workload and mode, one per line. Progress goes to standard error. Each run stops after --max-duration and
reports what it completed, marked with * in the table.

Exit status 1 if any put or get failed (the figures are printed anyway), 2 for bad
flags.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			configured := cmd.Flags().Changed("config")
			if configured && cmd.Flags().Changed("testnet") && f.testnet {
				return usagef("--testnet and --config are exclusive: measure a local network or the configured providers")
			}
			if configured {
				f.testnet = false
			}
			if !f.testnet && cmd.Flags().Changed("database") {
				return usagef("--database chooses the database of local networks; it does not apply to configured providers")
			}
			return g.runBench(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.workloads, "workload", "provider", "workloads to run: provider, signer, or both comma-separated")
	fl.StringVar(&f.modes, "modes", "one,plain,atomic,slow,nogroup,noencrypt", "modes to run, comma-separated")
	fl.IntVar(&f.rounds, "rounds", 0, "transactions per writer (default 100 for provider, 1000 for signer)")
	fl.IntVar(&f.writers, "writers", bench.DefaultWriters, "concurrent writers of the provider workload")
	fl.IntVar(&f.getEvery, "get-every", bench.DefaultGetEvery, "signer puts between two full gets")
	fl.DurationVar(&f.maxDuration, "max-duration", bench.DefaultMaxDuration, "longest run of one workload in one mode")
	fl.StringVar(&f.plot, "plot", "", "also write an SVG plot of the results (items/s and put latency percentiles per workload and mode) to FILE")
	fl.StringVar(&f.dir, "dir", "", "where local networks keep their data, created if missing (default: the system's temporary directory)")
	fl.StringVar(&f.databases, "database", "bolt", "embedded database of local networks: bolt, pebble, or both comma-separated")
	fl.BoolVar(&f.testnet, "testnet", true, "start a local network for each mode (the default; an explicit --config measures the configured providers)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per workload and mode, one per line")
	fl.BoolVar(&f.compare, "compare", false, "print the ratios against the one-provider run and check the targets")
	return cmd
}

// benchPlan turns the flags into what to run; every problem is a usage error.
func benchPlan(f benchFlags) (bench.Plan, error) {
	workloads, err := bench.ParseWorkloads(f.workloads)
	if err != nil {
		return bench.Plan{}, usagef("--workload: %v", err)
	}
	modes, err := bench.ParseModes(f.modes)
	if err != nil {
		return bench.Plan{}, usagef("--modes: %v", err)
	}
	dbs, err := bench.ParseDatabases(f.databases)
	if err != nil {
		return bench.Plan{}, usagef("--database: %v", err)
	}
	switch {
	case f.rounds < 0:
		return bench.Plan{}, usagef("--rounds must be positive, got %d", f.rounds)
	case f.writers < 1:
		return bench.Plan{}, usagef("--writers must be at least 1, got %d", f.writers)
	case f.getEvery < 1:
		return bench.Plan{}, usagef("--get-every must be at least 1, got %d", f.getEvery)
	case f.maxDuration <= 0:
		return bench.Plan{}, usagef("--max-duration must be positive, got %v", f.maxDuration)
	}
	return bench.Plan{
		Workloads: workloads,
		Modes:     modes,
		Databases: dbs,
		Options:   bench.Options{Rounds: f.rounds, Writers: f.writers, GetEvery: f.getEvery, MaxDuration: f.maxDuration},
	}, nil
}

func (g *globals) runBench(ctx context.Context, f benchFlags) error {
	plan, err := benchPlan(f)
	if err != nil {
		return err
	}
	plan.Options.Progress = g.stderr
	plan.Log = g.stderr
	var results []bench.Result
	if f.testnet {
		if f.dir != "" {
			if err := os.MkdirAll(f.dir, 0o700); err != nil {
				return fmt.Errorf("--dir: %w", err)
			}
		}
		plan.Local = bench.Local{Dir: f.dir}
		if g.verbose {
			plan.Local.Logger = g.logger().With("component", "bench")
		}
		results, err = bench.RunPlan(ctx, plan)
	} else {
		results, err = g.benchConfigured(ctx, plan)
	}
	if perr := g.printBench(results, f); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	return benchFailures(results)
}

// benchConfigured runs the plan's single mode on the configured providers.
func (g *globals) benchConfigured(ctx context.Context, plan bench.Plan) ([]bench.Result, error) {
	if len(plan.Modes) != 1 {
		return nil, usagef("with --config, give a single mode (--modes one, plain or atomic), got %d", len(plan.Modes))
	}
	mode := plan.Modes[0]
	var qmode quorum.Mode
	switch mode {
	case bench.ModeOne:
	case bench.ModePlain:
		qmode = quorum.ModePlain
	case bench.ModeAtomic:
		qmode = quorum.ModeAtomic
	default:
		return nil, usagef("mode %s needs a local network (--testnet): it changes the providers", mode)
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	if err := cfg.RequirePinned(); err != nil {
		return nil, configError(err)
	}
	// The client key is replaced by a fresh one per writer.
	qc, err := quorumConfig(cfg, nil, g.logger(), false)
	if err != nil {
		return nil, configError(err)
	}
	env := bench.Providers{Providers: qc.Providers, Mode: qmode, W: qc.W, R: qc.R, Timeout: qc.Timeout, Logger: qc.Logger}
	if mode == bench.ModeOne {
		env.Providers, env.W, env.R = qc.Providers[:1], 0, 0
	} else if len(env.Providers) < 2 {
		return nil, configf("mode %s needs at least two configured providers, the configuration has %d", mode, len(env.Providers))
	}
	var results []bench.Result
	for _, w := range plan.Workloads {
		o := plan.Options
		o.Workload = w
		fmt.Fprintf(g.stderr, "bench %s/%s: starting on the configured providers\n", w, mode)
		r, err := bench.Run(ctx, env, mode, o)
		if err != nil {
			return bench.Compare(results), fmt.Errorf("bench %s/%s: %w", w, mode, err)
		}
		results = append(results, r)
	}
	return bench.Compare(results), nil
}

// printBench prints the results as a table (or JSON lines) and, with --compare,
// the targets.
func (g *globals) printBench(results []bench.Result, f benchFlags) error {
	if len(results) == 0 {
		return nil
	}
	if f.plot != "" {
		var svg bytes.Buffer
		if err := bench.WritePlot(&svg, results); err != nil {
			return err
		}
		if err := os.WriteFile(f.plot, svg.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
		fmt.Fprintf(g.stderr, "plot written to %s\n", f.plot)
	}
	if f.json {
		if err := bench.WriteJSON(g.stdout, results); err != nil {
			return err
		}
	} else if err := bench.WriteTable(g.stdout, results, f.compare); err != nil {
		return err
	}
	if !f.compare {
		return nil
	}
	// With --json the standard output holds only results; the verdicts are text.
	out := g.stdout
	if f.json {
		out = g.stderr
	}
	return bench.WriteVerdicts(out, bench.Targets(results))
}

// benchFailures fails the command when any put or get failed: the figures of a
// run with failures are not comparable.
func benchFailures(results []bench.Result) error {
	failed, first := 0, ""
	for _, r := range results {
		failed += r.Errors
		if first == "" && r.FirstError != "" {
			first = fmt.Sprintf("%s/%s: %s", r.Workload, r.Mode, r.FirstError)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d puts or gets failed (first: %s)", failed, first)
	}
	return nil
}
