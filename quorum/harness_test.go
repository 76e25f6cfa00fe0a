package quorum

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/testnet"
)

// The one test harness of the quorum package: real lssd servers on loopback
// (testnet) and quorum clients over them with one set of test timeouts. The
// internal tests use it directly; export_test.go hands it to the quorum_test
// package, whose net_helpers_test.go names it for its files.

// harnessTimeout is the per-provider deadline in every quorum test: short, so a
// test that waits on a dead provider stays fast, and long enough for -race on a
// small, busy machine.
const harnessTimeout = 2 * time.Second

// harnessCtx bounds a whole test.
func harnessCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// harnessNet starts n real lssd servers on loopback in a temporary directory,
// closed at the end of the test; baseOnly lists providers that speak only the
// base protocol.
func harnessNet(t testing.TB, n int, baseOnly ...int) *testnet.Network {
	t.Helper()
	return harnessNetConfig(t, testnet.Config{N: n, BaseOnly: baseOnly})
}

// harnessNetConfig is harnessNet with the network's configuration (its Dir and
// Logger are the test's).
func harnessNetConfig(t testing.TB, cfg testnet.Config) *testnet.Network {
	t.Helper()
	cfg.Dir, cfg.Logger = t.TempDir(), slog.New(slog.DiscardHandler)
	net, err := testnet.Start(harnessCtx(t), cfg)
	if err != nil {
		t.Fatalf("testnet: %v", err)
	}
	t.Cleanup(func() { net.Close() })
	return net
}

// harnessKey is a fresh client key.
func harnessKey(t testing.TB) *secp256k1.PrivateKey {
	t.Helper()
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// harnessProviders is the provider configuration of net with every server_id
// and capability pinned, as `lss-quorum init` pins them.
func harnessProviders(net *testnet.Network) []ProviderConfig {
	var ps []ProviderConfig
	for _, p := range net.Providers() {
		ps = append(ps, ProviderConfig{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID(), Stock: p.BaseOnly()})
	}
	return ps
}

// harnessConfig is the configuration of a plain-mode client of net with the
// default quorums and the test timeouts; edit adjusts it.
func harnessConfig(net *testnet.Network, key *secp256k1.PrivateKey, edit ...func(*Config)) Config {
	cfg := Config{
		Providers: harnessProviders(net),
		ClientKey: key,
		Timeout:   harnessTimeout,
		// As long as a call may take: the tests want to see every provider
		// that answers at all, even a busy machine's first dial after a
		// restart. Tests about slow providers set their own.
		Grace:  harnessTimeout,
		Mode:   ModePlain,
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, e := range edit {
		e(&cfg)
	}
	return cfg
}

// harnessClient is a client of net (harnessConfig), closed at the end of the
// test.
func harnessClient(t testing.TB, net *testnet.Network, key *secp256k1.PrivateKey, edit ...func(*Config)) *Client {
	t.Helper()
	c, err := New(context.Background(), harnessConfig(net, key, edit...))
	if err != nil {
		t.Fatalf("quorum.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// atomicMode edits a configuration into atomic mode.
func atomicMode(cfg *Config) { cfg.Mode = ModeAtomic }
