package quorumcli_test

import (
	"strings"
	"testing"

	"github.com/lssquorum/lss/quorumcli"
)

// TestBenchDatabases runs `lss-quorum bench --database bolt,pebble` tiny: every
// mode runs on both databases, side by side in one table, each compared with the
// one-provider run on its own database.
func TestBenchDatabases(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := benchMain(t, "bench", "--workload", "signer", "--modes", "one,atomic", "--rounds", "3",
		"--get-every", "1", "--dir", t.TempDir(), "--database", "bolt,pebble", "--compare")
	if code != quorumcli.ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rows := map[string]bool{}
	for line := range strings.Lines(stdout) {
		if f := strings.Fields(line); len(f) > 3 && f[1] == "signer" {
			rows[f[0]+"/"+f[2]] = true
		}
	}
	for _, want := range []string{"bolt/one", "bolt/atomic", "pebble/one", "pebble/atomic"} {
		if !rows[want] {
			t.Errorf("no %s row:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stdout, "[pebble]") || !strings.Contains(stderr, "bench signer/atomic/pebble: starting") {
		t.Errorf("targets or progress do not name the database:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--database", "mongo"}, `"mongo"`},
		{[]string{"--database", "pebble", "--testnet=false"}, "configured providers"},
	} {
		code, _, stderr := benchMain(t, append([]string{"bench"}, bad.args...)...)
		if code != quorumcli.ExitUsage || !strings.Contains(stderr, bad.want) {
			t.Errorf("bench %v: exit %d, stderr %q; want exit %d naming %q", bad.args, code, stderr, quorumcli.ExitUsage, bad.want)
		}
	}
}
