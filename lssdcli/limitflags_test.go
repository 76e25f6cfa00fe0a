package lssdcli

import (
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/lssd/store"
)

func TestLimitFlagsReachTheOptions(t *testing.T) {
	cmd, cfg := newRootCommandConfig()
	err := cmd.ParseFlags([]string{"--max-connections", "7", "--max-concurrent-streams", "3",
		"--max-inflight-bytes", "99999999", "--handshake-timeout", "2s", "--idle-timeout", "1m",
		"--new-clients-per-second", "0.5", "--new-clients-burst", "4", "--allow-insecure-key-file", "--max-reply-size", "1234",
		"--max-page-items", "17", "--max-page-size", "4321",
		"--max-keys-per-client", "5", "--max-bytes-per-client", "6", "--max-pending-per-client", "0"})
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.opts.Limits
	if l.MaxConnections != 7 || l.MaxConcurrentStreams != 3 || l.MaxInflightBytes != 99999999 ||
		l.HandshakeTimeout != 2*time.Second || l.IdleTimeout != time.Minute || l.NewClientsPerSecond != 0.5 ||
		l.NewClientsBurst != 4 || !cfg.opts.AllowInsecureKeyFile || l.MaxReplySize != 1234 || l.MaxPageItems != 17 || l.MaxPageSize != 4321 {
		t.Errorf("options %+v, allow insecure key %v", l, cfg.opts.AllowInsecureKeyFile)
	}
	if q := cfg.opts.Quota; q != (store.Quota{MaxKeys: 5, MaxBytes: 6, MaxPending: 0}) {
		t.Errorf("quota %+v, want keys 5, bytes 6, pending unlimited", q)
	}
}

func TestLimitFlagDefaults(t *testing.T) {
	cmd, cfg := newRootCommandConfig()
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.opts.Quota != lssd.DefaultQuota() || cfg.opts.Quota.MaxKeys != 1_000_000 || cfg.opts.Quota.MaxBytes != 1<<30 || cfg.opts.Quota.MaxPending != 1000 {
		t.Errorf("default quota %+v", cfg.opts.Quota)
	}
	if cfg.opts.Limits != lssd.DefaultLimits() || cfg.opts.AllowInsecureKeyFile {
		t.Errorf("defaults %+v, want %+v and the key file check on", cfg.opts.Limits, lssd.DefaultLimits())
	}
}

func TestHelpListsQuotas(t *testing.T) {
	code, out, errOut := mainIn(t, "--help")
	help := out + errOut
	if code != ExitOK {
		t.Fatalf("--help: status %d, output %q", code, help)
	}
	for _, want := range []string{"--max-keys-per-client int", "(default 1000000)", "--max-bytes-per-client int", "(default 1073741824)",
		"--max-pending-per-client int", "(default 1000)", "0: unlimited"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not show %q:\n%s", want, help)
		}
	}
}
