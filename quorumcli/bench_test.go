package quorumcli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/internal/bench"
	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/quorumcli"
	"github.com/lssquorum/lss/testnet"
)

// benchMain runs lss-quorum in-process, as the binary's main would.
func benchMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code = quorumcli.Main(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestBenchOnTestnets runs `lss-quorum bench` tiny, both workloads in every
// mode, and checks the JSON lines and the table with its ratios and targets.
func TestBenchOnTestnets(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "not", "yet") // --dir is created

	args := []string{"bench", "--workload", "provider,signer", "--rounds", "2", "--writers", "2",
		"--get-every", "1", "--dir", dir, "--compare"}
	code, stdout, stderr := benchMain(t, append(args, "--json")...)
	if code != quorumcli.ExitOK {
		t.Fatalf("bench --json: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var results []bench.Result
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r bench.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("stdout line %q is not a result: %v", sc.Text(), err)
		}
		results = append(results, r)
	}
	if len(results) != 2*len(bench.AllModes) {
		t.Fatalf("%d results, want %d:\n%s", len(results), 2*len(bench.AllModes), stdout)
	}
	for _, r := range results {
		if r.Errors != 0 || r.Transactions != r.Writers*2 || r.Put.P50 <= 0 || r.Versus == nil {
			t.Errorf("%s/%s: %d errors, %d transactions of %d writers, p50 %v, vs one %+v",
				r.Workload, r.Mode, r.Errors, r.Transactions, r.Writers, r.Put.P50, r.Versus)
		}
	}
	if !strings.Contains(stderr, "target provider: plain items/s") || !strings.Contains(stderr, "bench signer/nogroup: starting") {
		t.Errorf("stderr lacks the targets or the progress:\n%s", stderr)
	}

	plot := filepath.Join(t.TempDir(), "bench.svg")
	code, stdout, stderr = benchMain(t, append(args, "--modes", "one,atomic", "--plot", plot)...)
	if svg, err := os.ReadFile(plot); err != nil || !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), "signer / atomic") {
		t.Errorf("--plot wrote %q, %v", svg, err)
	}
	if code != quorumcli.ExitOK {
		t.Fatalf("bench table: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rows := map[string]bool{}
	for line := range strings.Lines(stdout) {
		if f := strings.Fields(line); len(f) > 2 && (f[0] == "provider" || f[0] == "signer") {
			rows[f[0]+"/"+f[1]] = true
		}
	}
	if len(rows) != 4 || !rows["provider/one"] || !rows["provider/atomic"] || !rows["signer/one"] || !rows["signer/atomic"] {
		t.Errorf("table rows %v, want provider and signer in one and atomic:\n%s", rows, stdout)
	}
	for _, want := range []string{"items/s ×one", "target signer: atomic put p50"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestBenchConfiguredProviders measures the providers of a configuration file in
// one mode, and refuses what cannot run on them.
func TestBenchConfiguredProviders(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	network, err := testnet.Start(ctx, testnet.Config{N: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = network.Close() })
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	cfg := qconfig.New(cfgPath)
	for _, p := range network.Providers() {
		cfg.Providers = append(cfg.Providers, qconfig.Provider{Name: p.Name(), Addr: p.Addr(), ServerID: hex.EncodeToString(p.ServerID())})
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := benchMain(t, "bench", "--config", cfgPath, "--modes", "plain", "--workload", "signer", "--rounds", "3", "--json")
	if code != quorumcli.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var r bench.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("output %q: %v", stdout, err)
	}
	if r.Mode != bench.ModePlain || r.Workload != bench.WorkloadSigner || r.Transactions != 3 || r.Errors != 0 {
		t.Fatalf("result %+v", r)
	}
	if !strings.Contains(stderr, "on the configured providers") {
		t.Errorf("stderr does not say what is measured:\n%s", stderr)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", cfgPath, "--modes", "one,plain"}, "single mode"},
		{[]string{"--config", cfgPath, "--modes", "slow"}, "needs a local network"},
		{[]string{"--config", cfgPath, "--testnet"}, "exclusive"},
		{[]string{"--config", filepath.Join(t.TempDir(), "none.json"), "--modes", "one"}, "none.json"},
		{[]string{"--modes", "fast"}, "unknown mode"},
		{[]string{"--workload", "disk"}, "unknown workload"},
		{[]string{"--rounds", "-1"}, "--rounds"},
		{[]string{"--writers", "0"}, "--writers"},
		{[]string{"--get-every", "0"}, "--get-every"},
		{[]string{"--max-duration", "0s"}, "--max-duration"},
		{[]string{"extra"}, "takes 0 argument"},
	} {
		code, _, stderr := benchMain(t, append([]string{"bench"}, bad.args...)...)
		if code != quorumcli.ExitUsage || !strings.Contains(stderr, bad.want) {
			t.Errorf("bench %v: exit %d, stderr %q; want exit %d naming %q", bad.args, code, stderr, quorumcli.ExitUsage, bad.want)
		}
	}
}
