package qconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/quorum"
)

// Valid compressed public keys (the protocol's test vectors).
const (
	serverA = "02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27"
	serverB = "034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa"
)

func TestParseFullConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Parse(strings.NewReader(`{
	  "providers": [
	    {"name": "alice", "addr": "127.0.0.1:55551", "server_id": "` + serverA + `",
	     "tls": {"ca": "ca.pem", "cert": "c.pem", "key": "k.pem", "server_name": "alice.example"}},
	    {"name": "bob", "addr": "https://localhost:55552"},
	    {"name": "carol", "addr": "[::1]:55553", "server_id": "` + serverB + `", "capability": "stock"}
	  ],
	  "w": 3, "r": 1, "mode": "plain", "timeout": "2s", "grace": "20ms",
	  "client_key": "/keys/me.key", "watermark": "wm.json"
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Providers) != 3 || cfg.Providers[0].TLS.ServerName != "alice.example" {
		t.Fatalf("providers = %+v", cfg.Providers)
	}
	if w, r := cfg.Quorum(); w != 3 || r != 1 {
		t.Fatalf("quorum = %d,%d, want 3,1", w, r)
	}
	if cfg.QuorumMode() != quorum.ModePlain {
		t.Errorf("mode = %v", cfg.QuorumMode())
	}
	if cfg.CallTimeout() != 2*time.Second || time.Duration(cfg.Grace) != 20*time.Millisecond {
		t.Fatalf("timeout %v grace %v", cfg.CallTimeout(), cfg.Grace)
	}
	if got := cfg.Providers[0].ServerIDBytes(); len(got) != 33 {
		t.Fatalf("server id bytes = %x", got)
	}
	if cfg.Providers[1].ServerIDBytes() != nil {
		t.Fatal("an unpinned provider must have a nil server id")
	}
	if cfg.Providers[0].Stock() || !cfg.Providers[2].Stock() {
		t.Errorf("capabilities: alice stock=%v, carol stock=%v; want only carol pinned stock", cfg.Providers[0].Stock(), cfg.Providers[2].Stock())
	}
	cfg.SetPath("/etc/lssq/config.json")
	if got := cfg.ClientKeyPath(); got != "/keys/me.key" {
		t.Errorf("ClientKeyPath = %q", got)
	}
	if got := cfg.WatermarkPath(); got != "/etc/lssq/wm.json" {
		t.Errorf("WatermarkPath = %q", got)
	}
	if err := cfg.RequirePinned(); err == nil || !strings.Contains(err.Error(), `provider "bob" (providers[1])`) || !strings.Contains(err.Error(), "lss-quorum init") {
		t.Errorf("RequirePinned = %v, want it to name bob and init", err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Parse(strings.NewReader(`{"providers": [
	  {"name": "a", "addr": "127.0.0.1:1"}, {"name": "b", "addr": "127.0.0.1:2"},
	  {"name": "c", "addr": "127.0.0.1:3"}, {"name": "d", "addr": "127.0.0.1:4"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if w, r := cfg.Quorum(); w != 3 || r != 3 {
		t.Errorf("majority of 4 = %d,%d, want 3,3", w, r)
	}
	if cfg.QuorumMode() != quorum.ModeAuto {
		t.Errorf("default mode = %v", cfg.QuorumMode())
	}
	if cfg.CallTimeout() != DefaultTimeout {
		t.Errorf("timeout = %v", cfg.CallTimeout())
	}
	cfg.SetPath("/home/u/.lss-quorum/config.json")
	if got := cfg.ClientKeyPath(); got != "/home/u/.lss-quorum/client-key" {
		t.Errorf("ClientKeyPath = %q", got)
	}
	if got := cfg.WatermarkPath(); got != "/home/u/.lss-quorum/config.watermark.json" {
		t.Errorf("WatermarkPath = %q", got)
	}
}

func TestParseRejectsBadConfigs(t *testing.T) {
	t.Parallel()
	two := `{"name": "a", "addr": "127.0.0.1:1"}, {"name": "b", "addr": "127.0.0.1:2"}`
	for _, tc := range []struct {
		name, json string
		want       []string // every one must appear in the error
	}{
		{"empty file", ``, []string{"empty file"}},
		{"syntax error", "{\n\"providers\": [\n,]}", []string{"invalid JSON", "line 3"}},
		{"truncated", "{\n\"providers\": [\n" + two, []string{"invalid JSON", "ends at line 3", "truncated"}},
		{"tls over http://", `{"providers": [{"name": "a", "addr": "http://127.0.0.1:1", "tls": {"ca": "ca.pem"}}]}`, []string{`provider "a"`, `"tls" is set`, "http://", "https://"}},
		{"trailing data", `{"providers": [` + two + `]} {}`, []string{"after the JSON object"}},
		{"unknown field", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server-id": "00"}]}`, []string{`unknown field "server-id"`}},
		{"wrong type", `{"providers": [` + two + `], "w": "2"}`, []string{`"w"`, "int", "string"}},
		{"no providers", `{}`, []string{`"providers"`, "at least one"}},
		{"missing name", `{"providers": [{"addr": "127.0.0.1:1"}]}`, []string{"providers[0]", `"name": required`}},
		{"missing addr", `{"providers": [` + two + `, {"name": "c"}]}`, []string{`provider "c" (providers[2])`, `"addr": required`}},
		{"addr without port", `{"providers": [{"name": "a", "addr": "127.0.0.1"}]}`, []string{`provider "a"`, "want host:port"}},
		{"addr without host", `{"providers": [{"name": "a", "addr": ":55551"}]}`, []string{`provider "a"`, "no host"}},
		{"bad port", `{"providers": [{"name": "a", "addr": "localhost:99999"}]}`, []string{`provider "a"`, "port"}},
		{"duplicate name", `{"providers": [` + two + `, {"name": "a", "addr": "127.0.0.1:3"}]}`, []string{`provider "a" (providers[2])`, "providers[0]", "unique"}},
		{"duplicate addr", `{"providers": [` + two + `, {"name": "c", "addr": "127.0.0.1:1"}]}`, []string{`provider "c" (providers[2])`, `"addr": 127.0.0.1:1`, "providers[0]", "count twice"}},
		{"duplicate addr with scheme", `{"providers": [` + two + `, {"name": "c", "addr": "http://127.0.0.1:2"}]}`, []string{`provider "c" (providers[2])`, "providers[1]", "count twice"}},
		{"duplicate server_id", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server_id": "` + serverA + `"}, {"name": "b", "addr": "localhost:1", "server_id": "` + strings.ToUpper(serverA) + `"}]}`, []string{`provider "b" (providers[1])`, `"server_id"`, "providers[0]", "one server"}},
		{"server_id not hex", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server_id": "zz"}]}`, []string{`provider "a"`, `"server_id"`, "not hex"}},
		{"server_id short", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server_id": "02466d"}]}`, []string{`"server_id"`, "3 bytes, want 33"}},
		{"server_id not a key", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server_id": "05` + serverA[2:] + `"}]}`, []string{`"server_id"`, "public key"}},
		{"unknown capability", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "capability": "base"}]}`, []string{`provider "a"`, `"capability": "base"`, `"extension" or "stock"`}},
		{"tls cert without key", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "tls": {"cert": "c.pem"}}]}`, []string{`provider "a"`, `"cert" and "key"`}},
		{"w too big", `{"providers": [` + two + `], "w": 3}`, []string{`"w": 3`, "1..2"}},
		{"r negative", `{"providers": [` + two + `], "r": -1}`, []string{`"r": -1`}},
		{"w+r too small", `{"providers": [` + two + `, {"name": "c", "addr": "127.0.0.1:3"}], "w": 1, "r": 2}`, []string{"w=1 r=2 n=3"}},
		{"bad mode", `{"providers": [` + two + `], "mode": "fast"}`, []string{`"mode"`, "fast"}},
		{"bad timeout", `{"providers": [` + two + `], "timeout": "soon"}`, []string{`"timeout"`, "duration", "soon"}},
		{"bad grace", `{"providers": [` + two + `], "grace": "1 second"}`, []string{`"grace"`, "duration"}},
		{"timeout as number", `{"providers": [` + two + `], "timeout": 10}`, []string{`"timeout"`, "string", "number"}},
		{"negative timeout", `{"providers": [` + two + `], "timeout": "-1s"}`, []string{`"timeout"`, "positive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.json))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestResolveHome(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	cfg := New("/etc/lssq/config.json")
	cfg.ClientKey = "~/.lss/client-key"
	if got := cfg.ClientKeyPath(); got != filepath.Join(home, ".lss", "client-key") {
		t.Errorf("ClientKeyPath = %q", got)
	}
	if got := cfg.Resolve("certs/ca.pem"); got != "/etc/lssq/certs/ca.pem" {
		t.Errorf("Resolve = %q", got)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "nope.json"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"providers": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v, want the path in it", err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	cfg := New(path)
	cfg.Providers = []Provider{{Name: "a", Addr: "127.0.0.1:1", ServerID: serverA}, {Name: "b", Addr: "127.0.0.1:2"}}
	cfg.Timeout = Duration(3 * time.Second)
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path() != path || len(got.Providers) != 2 || got.Providers[0].ServerID != serverA || got.CallTimeout() != 3*time.Second {
		t.Errorf("round trip = %+v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the config (no temporary files left)", len(entries))
	}

	invalid := New(path)
	if err := invalid.Save(); err == nil {
		t.Error("saved a configuration without providers")
	}
	if again, err := Load(path); err != nil || len(again.Providers) != 2 {
		t.Errorf("a refused save changed the file: %v", err)
	}
}
