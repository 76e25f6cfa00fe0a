package lssdcli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lssquorum/lss/internal/buildinfo"
)

// mainIn runs Main in process and returns its status and output.
func mainIn(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestVersionFlag(t *testing.T) {
	code, out, errOut := mainIn(t, "--version")
	if code != ExitOK || out != buildinfo.String("lssd") || errOut != "" {
		t.Fatalf("--version: %d %q %q; want 0 and %q", code, out, errOut, buildinfo.String("lssd"))
	}
}

func TestUsageErrorsExit2WithUsageLine(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"--port", "many"},
		{"stray"},
		{"--datadir", t.TempDir(), "--log-level", "loud"},
		{"--datadir", t.TempDir(), "--log-format", "xml"},
	} {
		code, out, errOut := mainIn(t, args...)
		if code != ExitUsage || out != "" || !strings.HasPrefix(errOut, "lssd: ") || !strings.Contains(errOut, "usage: lssd [flags]") {
			t.Errorf("lssd %q: status %d, stdout %q, stderr %q; want %d and the usage line", args, code, out, errOut, ExitUsage)
		}
	}
}

func TestStartFailureExits1(t *testing.T) {
	code, _, errOut := mainIn(t, "--datadir", t.TempDir(), "--database", "mongo", "--port", "0")
	if code != ExitFailure || !strings.Contains(errOut, "mongo") || strings.Contains(errOut, "usage:") {
		t.Fatalf("unknown database: status %d, stderr %q; want %d naming it, without the usage line", code, errOut, ExitFailure)
	}
}
