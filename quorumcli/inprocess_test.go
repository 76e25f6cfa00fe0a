package quorumcli

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lssquorum/lss/testnet"
)

// inProcess starts a three-provider testnet with a configuration for it, and
// returns a context bounding the test and a runner of Main with that
// configuration plus extra flags: it fails the test unless the exit status is
// wantCode, and returns stdout and stderr together.
func inProcess(t *testing.T, extra ...string) (context.Context, *testnet.Network, string, func(wantCode int, args ...string) string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	network, err := testnet.Start(ctx, testnet.Config{N: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = network.Close() })
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	if err := testnetConfig(cfgPath, nil, network.Dir(), providersOf(network)).Save(); err != nil {
		t.Fatal(err)
	}
	main := func(wantCode int, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		full := append(append([]string{"--config", cfgPath}, extra...), args...)
		code := Main(ctx, full, &stdout, &stderr)
		if code != wantCode {
			t.Fatalf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, stdout.String(), stderr.String())
		}
		return stdout.String() + stderr.String()
	}
	return ctx, network, cfgPath, main
}
