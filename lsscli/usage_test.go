package lsscli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lssquorum/lss/internal/buildinfo"
)

func TestVersionFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"--version"}, &out, &errOut)
	if code != ExitOK || out.String() != buildinfo.String("lss-cli") || errOut.Len() != 0 {
		t.Fatalf("--version: %d %q %q", code, out.String(), errOut.String())
	}
}

func TestUsageErrorsExit2WithUsageLine(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		usage string
	}{
		{[]string{"put", "k", "0"}, "usage: lss-cli put KEY VERSION HEXVALUE"},
		{[]string{"get"}, "usage: lss-cli get PREFIX"},
		{[]string{"ping", "extra"}, "usage: lss-cli ping"},
		{[]string{"--no-such-flag", "ping"}, "usage: lss-cli [flags]"},
		{[]string{"frobnicate"}, "usage: lss-cli [flags]"},
		{[]string{"put", "k", "-3", "aa"}, "usage: lss-cli put KEY VERSION HEXVALUE"},
		{[]string{"put", "k", "0", "zz"}, "usage: lss-cli put KEY VERSION HEXVALUE"},
	} {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append([]string{"--datadir", t.TempDir(), "--rpc", "1"}, tc.args...), &out, &errOut)
		if code != ExitUsage || out.Len() != 0 || !strings.HasPrefix(errOut.String(), "lss-cli: ") || !strings.Contains(errOut.String(), tc.usage) {
			t.Errorf("lss-cli %q: status %d, stdout %q, stderr %q; want %d and %q", tc.args, code, out.String(), errOut.String(), ExitUsage, tc.usage)
		}
	}
}
