package quorumcli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/testnet"
)

func newTestnetCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Run a local network of LSS providers for trying things out",
		// Without a subcommand, the help; an unknown one is a usage error.
		Args: cobra.ArbitraryArgs,
		RunE: cmdmain.HelpOrUnknown,
	}
	var (
		n        int
		dir      string
		baseOnly []int
	)
	up := &cobra.Command{
		Use:   "up",
		Short: "Start N local providers and write a configuration for them",
		Long: `testnet up starts N real lssd servers on 127.0.0.1, writes the configuration
file (--config) with their addresses and server_ids, prints them, and keeps
running in the foreground until interrupted (Ctrl-C or SIGTERM).

Without --dir the data lives in a temporary directory removed on exit. With --dir
the data (and each server's key) is kept, so running it again with the same
--dir brings the same providers back, on new ports.

testnet up only overwrites a configuration file that an earlier testnet up wrote;
a file describing a real deployment is left alone. When the providers are new
(their server_ids changed), the watermark file is reset: its versions belonged to
the old network's data.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.runTestnetUp(cmd.Context(), testnet.Config{N: n, Dir: dir, BaseOnly: baseOnly})
		},
	}
	up.Flags().IntVarP(&n, "n", "n", 3, "number of providers")
	up.Flags().StringVar(&dir, "dir", "", "keep the providers' data in this directory (default: a temporary one, removed on exit)")
	up.Flags().IntSliceVar(&baseOnly, "base-only", nil, "indexes of providers that speak only the base protocol, like a stock lssd (e.g. 0,2)")
	cmd.AddCommand(up)
	return cmd
}

func (g *globals) runTestnetUp(ctx context.Context, tc testnet.Config) error {
	if tc.N < 1 {
		return usagef("-n must be at least 1, got %d", tc.N)
	}
	for _, i := range tc.BaseOnly {
		if i < 0 || i >= tc.N {
			return usagef("--base-only %d: want a provider index in 0..%d", i, tc.N-1)
		}
	}
	old, err := existingtestnetConfig(g.configPath)
	if err != nil {
		return err
	}
	if g.verbose {
		tc.Logger = g.logger().With("component", "testnet")
	} else {
		tc.Logger = slog.New(slog.DiscardHandler)
	}
	network, err := testnet.Start(ctx, tc)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := network.Close(); cerr != nil {
			fmt.Fprintf(g.stderr, "lss-quorum: stopping the testnet: %v\n", cerr)
		}
	}()

	cfg := testnetConfig(g.configPath, old, network.Dir(), providersOf(network))
	if old == nil || !sameServers(old, cfg) {
		if err := qconfig.ResetWatermark(cfg.WatermarkPath()); err != nil {
			return err
		}
	}
	if err := cfg.Save(); err != nil {
		return err
	}
	writeTestnetUp(g.stdout, cfg, network.Dir(), tc)
	<-ctx.Done()
	fmt.Fprintln(g.stdout, "stopping the testnet")
	return nil
}

// existingtestnetConfig returns the configuration at path if an earlier testnet
// up wrote it, nil if there is none, and an error if the file is something else
// (a real deployment's configuration, or one that does not parse): that file is
// not ours to overwrite.
func existingtestnetConfig(path string) (*qconfig.Config, error) {
	old, err := qconfig.Load(path)
	if errors.Is(err, qconfig.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, configf("%v; testnet up will not overwrite it: fix or remove it, or pass another --config", err)
	}
	if old.TestnetDir == "" {
		return nil, configf("config %s describes a real deployment (testnet up did not write it); pass another --config, e.g. --config /tmp/lssq/config.json", path)
	}
	return old, nil
}

// testnetProvider is what the configuration needs from a running provider.
type testnetProvider struct {
	Name, Addr string
	ServerID   []byte
	Stock      bool
}

func providersOf(n *testnet.Network) []testnetProvider {
	var out []testnetProvider
	for _, p := range n.Providers() {
		out = append(out, testnetProvider{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID(), Stock: p.BaseOnly()})
	}
	return out
}

// testnetConfig is the configuration for a test network: its providers, pinned,
// keeping the client key and watermark paths of the previous testnet
// configuration old (nil if none).
func testnetConfig(path string, old *qconfig.Config, dir string, ps []testnetProvider) *qconfig.Config {
	cfg := qconfig.New(path)
	if old != nil {
		cfg.ClientKey, cfg.Watermark = old.ClientKey, old.Watermark
	}
	cfg.TestnetDir = dir
	for _, p := range ps {
		capability := qconfig.CapabilityExtension
		if p.Stock {
			capability = qconfig.CapabilityStock
		}
		cfg.Providers = append(cfg.Providers, qconfig.Provider{Name: p.Name, Addr: p.Addr, ServerID: hex.EncodeToString(p.ServerID), Capability: capability})
	}
	return cfg
}

// sameServers reports whether a and b list the same providers by name and
// server_id (addresses may differ: a testnet restarted on the same data gets new
// ports but keeps its server keys, and its data).
func sameServers(a, b *qconfig.Config) bool {
	if len(a.Providers) != len(b.Providers) {
		return false
	}
	for i := range a.Providers {
		if a.Providers[i].Name != b.Providers[i].Name || a.Providers[i].ServerID != b.Providers[i].ServerID {
			return false
		}
	}
	return true
}

// writeTestnetUp prints the running network and what to do next.
func writeTestnetUp(w io.Writer, cfg *qconfig.Config, dir string, tc testnet.Config) {
	fmt.Fprintf(w, "testnet: %d provider(s) on 127.0.0.1, data in %s\n", len(cfg.Providers), dir)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, p := range cfg.Providers {
		fmt.Fprintf(tw, "  %s\t%s\tserver_id %s", p.Name, p.Addr, p.ServerID)
		if slices.Contains(tc.BaseOnly, i) {
			fmt.Fprint(tw, "\tbase protocol only")
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintf(w, "configuration written to %s\n", cfg.Path())
	flag := ""
	if cfg.Path() != DefaultConfigPath() {
		flag = " --config " + cfg.Path()
	}
	fmt.Fprintf(w, "in another terminal: lss-quorum%s init, then put, get, audit\n", flag)
	fmt.Fprintln(w, "running; press Ctrl-C to stop")
}
