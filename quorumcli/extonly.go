package quorumcli

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// extensionOnlyWanted says whether init switches the client's namespaces to
// extension-only: when every provider is pinned as an extension provider and puts
// are not forced to plain mode, nothing this client does needs the base Get or
// Put, and leaving them on lets anyone holding the token use the base Get as a
// MAC oracle (docs/protocol.md, the base protocol's weaknesses).
func extensionOnlyWanted(cfg *qconfig.Config) bool {
	if cfg.QuorumMode() == quorum.ModePlain {
		return false
	}
	for _, p := range cfg.Providers {
		if p.Capability != qconfig.CapabilityExtension || p.ServerIDBytes() == nil {
			return false
		}
	}
	return true
}

// switchExtensionOnly switches the client's namespace to extension-only on every
// provider, in parallel, each call bounded by the configured timeout, and returns
// an error naming the providers that could not be switched.
func switchExtensionOnly(ctx context.Context, cfg *qconfig.Config, key *secp256k1.PrivateKey) error {
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	for _, p := range cfg.Providers {
		wg.Go(func() {
			err := setExtensionOnly(ctx, cfg, p, key)
			if err != nil {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("%s (%v)", p.Name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		return fmt.Errorf("could not switch to extension-only: %s; run init again when they answer", strings.Join(failed, "; "))
	}
	return nil
}

func setExtensionOnly(ctx context.Context, cfg *qconfig.Config, p qconfig.Provider, key *secp256k1.PrivateKey) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.CallTimeout())
	defer cancel()
	tc, err := cfg.TLSConfig(p)
	if err != nil {
		return err
	}
	c, err := provider.Dial(ctx, provider.Options{
		Addr: p.Addr, Name: p.Name, TLS: tc, ClientKey: key, ServerID: p.ServerIDBytes(),
		Extension: true, DialTimeout: cfg.CallTimeout(),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SetExtensionOnly(ctx)
}
