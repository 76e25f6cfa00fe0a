package quorumcli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A configuration error (a file that does not parse, a client key that does not
// exist) exits 2 with the error alone; a usage error (bad arguments or flags)
// exits 2 with the error, then the usage line once, as etcdctl does.
func TestConfigErrorsPrintNoUsageLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"providers": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	noKey := filepath.Join(dir, "nokey.json")
	if err := os.WriteFile(noKey, []byte(`{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server_id": "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "capability": "extension"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.json")
	if err := os.WriteFile(truncated, []byte("{\"providers\": [\n  {\"name\": \"a\", \"addr\": \"127.0.0.1:1\"}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsOverHTTP := filepath.Join(dir, "tls.json")
	if err := os.WriteFile(tlsOverHTTP, []byte(`{"providers": [{"name": "a", "addr": "http://127.0.0.1:1", "tls": {"ca": "ca.pem"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	badKey := filepath.Join(dir, "badkey.json")
	if err := os.WriteFile(badKey, []byte(`{"providers": [{"name": "a", "addr": "127.0.0.1:1"}], "client_key": "garbage-key"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "garbage-key"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	missingCA := filepath.Join(dir, "missingca.json")
	if err := os.WriteFile(missingCA, []byte(`{"providers": [{"name": "a", "addr": "127.0.0.1:1", "tls": {"ca": "missing-ca.pem"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	config := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badAddr := config("badaddr.json", `{"providers": [{"name": "a", "addr": "127.0.0.1"}]}`)
	badPort := config("badport.json", `{"providers": [{"name": "a", "addr": "ftp://x:99999"}]}`)
	wOverN := config("w.json", `{"providers": [{"name": "a", "addr": "127.0.0.1:1"}, {"name": "b", "addr": "127.0.0.1:2"}], "w": 3}`)
	dupAddr := config("dup.json", `{"providers": [{"name": "a", "addr": "127.0.0.1:1"}, {"name": "b", "addr": "http://127.0.0.1:1"}]}`)
	badID := config("id.json", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server_id": "0279be"}]}`)
	for _, tc := range []struct {
		args      []string
		want      string
		usageLine string // "" for a configuration error
	}{
		{[]string{"--config", broken, "get"}, broken, ""},
		{[]string{"--config", broken, "audit", "--repair"}, broken, ""},
		{[]string{"--config", broken, "watermark", "show"}, broken, ""},
		{[]string{"--config", filepath.Join(dir, "missing.json"), "put", "k", "0", "aa"}, "missing.json", ""},
		{[]string{"--config", noKey, "get"}, "run `lss-quorum init` first", ""},
		{[]string{"--config", noKey, "put", "k"}, "put takes KEY VERSION HEXVALUE triples, got 1", "usage: lss-quorum put KEY VERSION HEXVALUE"},
		{[]string{"--config", noKey, "put", "k", "x", "aa"}, `"x"`, "usage: lss-quorum put KEY VERSION HEXVALUE"},
		{[]string{"get", "--no-such-flag"}, "--no-such-flag", "usage: lss-quorum get [PREFIX]"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, "usage: lss-quorum [flags]"},
		{[]string{"--config", truncated, "get"}, "truncated", ""},
		// A file that cannot be read (a directory here: root reads any file).
		{[]string{"--config", dir, "get"}, "config " + dir + ": read " + dir + ": is a directory", ""},
		{[]string{"--config", tlsOverHTTP, "get"}, `"tls" is set but "addr" "http://127.0.0.1:1" is plaintext http://`, ""},
		{[]string{"--config", badAddr, "put", "k", "0", "aa"}, `provider "a" (providers[0]): "addr": address "127.0.0.1": want host:port`, ""},
		{[]string{"--config", badPort, "init"}, `"addr": address "ftp://x:99999": scheme "ftp"`, ""},
		{[]string{"--config", wOverN, "audit"}, `"w": 3 is out of range: want 1..2`, ""},
		{[]string{"--config", badID, "recover"}, `"server_id": not a valid compressed secp256k1 public key: 3 bytes, want 33`, ""},
		{[]string{"--config", dupAddr, "get"}, `provider "b" (providers[1]): "addr": http://127.0.0.1:1 is also the address of providers[0]`, ""},
		// init: the files the configuration names are checked before any
		// provider is asked, as every other command does.
		{[]string{"--config", badKey, "init"}, "corrupt key file " + filepath.Join(dir, "garbage-key"), ""},
		{[]string{"--config", missingCA, "init"}, `provider "a": tls`, ""},
		{[]string{"--config", missingCA, "init"}, "missing-ca.pem", ""},
		// An argument that looks like a negative number is taken for flags.
		{[]string{"--config", noKey, "put", "k", "-1", "aa"}, "-1 was read as flags; no version is negative", "usage: lss-quorum put KEY VERSION HEXVALUE"},
		{[]string{"--config", noKey, "put", "k", "9223372036854775807", "aa"}, "version \"9223372036854775807\" is not a non-negative integer up to 9223372036854775806", "usage: lss-quorum put"},
		{[]string{"--config", noKey, "put", "k\xff", "0", "aa"}, "is not valid UTF-8", "usage: lss-quorum put"},
		{[]string{"--config", noKey, "get", "k\xff"}, "PREFIX \"k\\xff\" is not valid UTF-8", "usage: lss-quorum get [PREFIX]"},
		{[]string{"--config", noKey, "audit", "k\xff"}, "is not valid UTF-8", "usage: lss-quorum audit [PREFIX]"},
		{[]string{"--config", noKey, "watermark", "show", "x"}, "watermark show takes 0 argument(s), got 1", "usage: lss-quorum watermark show"},
		{[]string{"--config", noKey, "watermark", "reset", "--all", "x"}, "watermark reset takes 0 argument(s), got 1", "usage: lss-quorum watermark reset"},
		{[]string{"watermark", "bogus"}, `unknown command "bogus" for "lss-quorum watermark"`, "usage: lss-quorum watermark [flags]"},
		{[]string{"help", "bogus"}, `unknown help topic "bogus"`, "usage: lss-quorum help [command]"},
		{[]string{"completion", "cmd.exe"}, `unknown command "cmd.exe" for "lss-quorum completion"`, "usage: lss-quorum completion [flags]"},
		{[]string{"testnet", "down"}, `unknown command "down" for "lss-quorum testnet"`, "usage: lss-quorum testnet [flags]"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), tc.args, &stdout, &stderr)
		out := stderr.String()
		if code != ExitUsage || !strings.HasPrefix(out, "lss-quorum: ") || !strings.Contains(out, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d naming %q", tc.args, code, out, ExitUsage, tc.want)
		}
		switch n := strings.Count(out, "usage:"); {
		case tc.usageLine == "" && n != 0:
			t.Errorf("%q is a configuration error, yet prints a usage line:\n%s", tc.args, out)
		case tc.usageLine != "" && (n != 1 || !strings.Contains(out, tc.usageLine)):
			t.Errorf("%q is a usage error: want the usage line %q once:\n%s", tc.args, tc.usageLine, out)
		}
	}
}
