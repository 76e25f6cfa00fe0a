package lssdcli

import (
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd"
)

func TestLimitFlagsReachTheOptions(t *testing.T) {
	cmd, cfg := newRootCommandConfig()
	err := cmd.ParseFlags([]string{"--max-connections", "7", "--max-concurrent-streams", "3",
		"--max-inflight-bytes", "99999999", "--handshake-timeout", "2s", "--idle-timeout", "1m",
		"--new-clients-per-second", "0.5", "--new-clients-burst", "4", "--allow-insecure-key-file", "--max-reply-size", "1234"})
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.opts.Limits
	if l.MaxConnections != 7 || l.MaxConcurrentStreams != 3 || l.MaxInflightBytes != 99999999 ||
		l.HandshakeTimeout != 2*time.Second || l.IdleTimeout != time.Minute || l.NewClientsPerSecond != 0.5 ||
		l.NewClientsBurst != 4 || !cfg.opts.AllowInsecureKeyFile || l.MaxReplySize != 1234 {
		t.Errorf("options %+v, allow insecure key %v", l, cfg.opts.AllowInsecureKeyFile)
	}
}

func TestLimitFlagDefaults(t *testing.T) {
	cmd, cfg := newRootCommandConfig()
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.opts.Limits != lssd.DefaultLimits() || cfg.opts.AllowInsecureKeyFile {
		t.Errorf("defaults %+v, want %+v and the key file check on", cfg.opts.Limits, lssd.DefaultLimits())
	}
}
