package quorumcli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
)

func newInitCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the client key and pin every provider's server_id and capability",
		Long: `init creates the client key if it does not exist yet (it never replaces one),
asks every configured provider for its server_id and whether it speaks the quorum
extension, and pins both in the configuration ("server_id", "capability":
"extension" or "stock"). Only extension providers take part in atomic puts;
stock servers get plain puts of decided values and are named as weaker.

A provider whose server_id or capability differs from the one already pinned is
refused, and nothing is changed: a new key may mean someone else is answering at
that address, and a provider that suddenly answers like a stock server may be a
man in the middle downgrading the client. If the operator really replaced the
server, run init --force to re-pin it.

When every provider is an extension provider (and "mode" is not "plain"), init
also switches the client's namespace on each of them to extension-only: the base
Get and Put are refused from then on, so a holder of the client's token cannot use
the base Get as a MAC oracle. This is for good; a Rust lss-cli with the same key
loses access to those namespaces.

Providers that cannot be reached are left unpinned and reported (exit status 1);
run init again when they are up.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.runInit(cmd.Context(), force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "re-pin providers whose server_id changed")
	return cmd
}

func (g *globals) runInit(ctx context.Context, force bool) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	// The files the configuration names are checked before any provider is
	// asked: a bad one is the configuration's fault (exit status 2), not an
	// unreachable provider's.
	for _, p := range cfg.Providers {
		if _, err := cfg.TLSConfig(p); err != nil {
			return configError(err)
		}
	}
	key, created, err := clientkey.LoadOrCreate(cfg.ClientKeyPath())
	if err != nil {
		return configError(err)
	}
	verb := "using"
	if created {
		verb = "created"
	}
	fmt.Fprintf(g.stdout, "%s client key %s (client_id %x)\n", verb, cfg.ClientKeyPath(), wire.PublicID(key))

	results := fetchServerIDs(ctx, cfg, key)
	reported := make(map[string][]byte)
	capabilities := make(map[string]string)
	var unreachable []string
	for _, r := range results {
		if r.err != nil {
			unreachable = append(unreachable, fmt.Sprintf("%s (%v)", r.name, r.err))
			continue
		}
		reported[r.name] = r.serverID
		capabilities[r.name] = r.capability
	}
	// Both are checked before either is applied: a refused pin changes nothing.
	check := *cfg
	check.Providers = slices.Clone(cfg.Providers)
	if _, err := check.PinCapabilities(capabilities, force); err != nil {
		return fmt.Errorf("%w; the configuration was not changed", err)
	}
	changes, err := cfg.PinServerIDs(reported, force)
	var changed *qconfig.ChangedIDError
	if errors.As(err, &changed) {
		return fmt.Errorf("%w; the configuration was not changed", err)
	}
	if err != nil {
		return err
	}
	if _, err := cfg.PinCapabilities(capabilities, force); err != nil {
		return err
	}
	// Two entries that answered with one server_id are one server listed
	// twice (two addresses of it): the configuration is wrong, not a provider.
	if err := cfg.Validate(); err != nil {
		return configf("config %s: %w; the configuration was not changed", cfg.Path(), err)
	}
	if err := cfg.Save(); err != nil {
		return err
	}
	writePinChanges(g.stdout, cfg, changes, results)
	fmt.Fprintf(g.stdout, "configuration saved to %s\n", cfg.Path())
	if len(unreachable) > 0 {
		return fmt.Errorf("not pinned, unreachable: %s; run init again when they answer", strings.Join(unreachable, "; "))
	}
	if extensionOnlyWanted(cfg) {
		if err := switchExtensionOnly(ctx, cfg, key); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, "every provider is an extension provider: the client's namespaces are now extension-only (base Get and Put refused)")
	}
	return nil
}

// idResult is one provider's answer to init's Info, and its capability.
type idResult struct {
	name     string
	serverID []byte
	version  string
	// capability is qconfig.CapabilityExtension or qconfig.CapabilityStock.
	capability string
	err        error
}

// fetchServerIDs asks every provider for its server_id in parallel, each bounded
// by the configured timeout. The server_id is not checked here (nothing is
// pinned yet, or it is about to be compared with the pin); results are in
// configuration order.
func fetchServerIDs(ctx context.Context, cfg *qconfig.Config, key *secp256k1.PrivateKey) []idResult {
	results := make([]idResult, len(cfg.Providers))
	var wg sync.WaitGroup
	for i, p := range cfg.Providers {
		results[i].name = p.Name
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, cfg.CallTimeout())
			defer cancel()
			tc, err := cfg.TLSConfig(p)
			if err != nil {
				results[i].err = err
				return
			}
			c, err := provider.Dial(ctx, provider.Options{
				Addr: p.Addr, Name: p.Name, TLS: tc, ClientKey: key, DialTimeout: cfg.CallTimeout(),
			})
			if err != nil {
				results[i].err = err
				return
			}
			defer c.Close()
			results[i].version, results[i].serverID, results[i].err = c.Info(ctx)
			if results[i].err == nil {
				results[i].capability, results[i].err = probeCapability(ctx, c)
			}
		})
	}
	wg.Wait()
	return results
}

// probeCapability asks the provider for its transaction records: a stock server
// answers UNIMPLEMENTED, an extension server an authenticated reply. Like the
// server_id, this is trusted once, at init, and pinned; it is never learned
// again at run time.
func probeCapability(ctx context.Context, c *provider.Client) (string, error) {
	_, err := c.Status(ctx)
	var tampered *provider.TamperedError
	switch {
	case errors.Is(err, provider.ErrNotSupported):
		return qconfig.CapabilityStock, nil
	case err == nil, errors.As(err, &tampered):
		return qconfig.CapabilityExtension, nil
	}
	return "", fmt.Errorf("telling whether it speaks the extension: %w", err)
}

// writePinChanges prints, per provider, its address, server_id and what pinning did.
func writePinChanges(w io.Writer, cfg *qconfig.Config, changes []qconfig.PinChange, results []idResult) {
	byName := make(map[string]qconfig.PinChange, len(changes))
	for _, c := range changes {
		byName[c.Provider] = c
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, p := range cfg.Providers {
		r := results[i]
		c, ok := byName[p.Name]
		switch {
		case r.err != nil:
			fmt.Fprintf(tw, "  %s\t%s\tunreachable, not pinned\t%v\n", p.Name, p.Addr, r.err)
		case ok:
			what := map[string]string{"pinned": "pinned", "unchanged": "already pinned", "changed": "RE-PINNED (was " + c.Old + ")"}[c.Kind()]
			fmt.Fprintf(tw, "  %s\t%s\tserver_id %s\t%s\t%s\tserver %s\n", p.Name, p.Addr, hex.EncodeToString(r.serverID), what, r.capability, r.version)
		}
	}
	tw.Flush()
}
