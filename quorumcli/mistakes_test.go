package quorumcli

import (
	"bytes"
	"context"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/quorum"
)

// runMain runs Main in process and returns its exit status, stdout and stderr.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// mustExit fails the test unless Main exits with code and its output holds
// every one of wants; it returns stdout and stderr together.
func mustExit(t *testing.T, code int, args []string, wants ...string) string {
	t.Helper()
	got, stdout, stderr := runMain(t, args...)
	out := stdout + stderr
	if got != code {
		t.Fatalf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, got, code, stdout, stderr)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%q: output lacks %q:\n%s", args, w, out)
		}
	}
	return out
}

// pinnedConfig writes a configuration whose providers are pinned but that
// nobody runs, with a client key, in a directory of its own; watermark is
// its "watermark" field ("" for the default).
func pinnedConfig(t *testing.T, watermark string) (*qconfig.Config, *secp256k1.PrivateKey) {
	t.Helper()
	dir := t.TempDir()
	cfg := qconfig.New(filepath.Join(dir, "config.json"))
	for i, name := range []string{"a", "b", "c"} {
		k, err := secp256k1.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Providers = append(cfg.Providers, qconfig.Provider{Name: name, Addr: "127.0.0.1:" + string(rune('1'+i)),
			ServerID: hex.EncodeToString(k.PubKey().SerializeCompressed()), Capability: qconfig.CapabilityExtension})
	}
	cfg.Watermark = watermark
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	key, _, err := clientkey.LoadOrCreate(cfg.ClientKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	return cfg, key
}

// A watermark file that does not parse stops every command that uses it with
// a configuration error (exit 2, before anything is sent) that names the file
// and the way out; reset --key cannot reset it, reset --all moves it aside.
func TestDamagedWatermarkFile(t *testing.T) {
	t.Parallel()
	cfg, _ := pinnedConfig(t, "")
	path := cfg.WatermarkPath()
	if err := os.WriteFile(path, []byte(`{"format": 2, "keys": {`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := []string{"--config", cfg.Path()}
	for _, args := range [][]string{{"get"}, {"put", "k", "0", "01"}, {"audit"}, {"recover"}, {"watermark", "show"}, {"watermark", "reset", "--key", "k"}} {
		out := mustExit(t, ExitUsage, append(c, args...), "watermark "+path, "damaged", "`lss-quorum watermark reset --all` moves it aside")
		if strings.Contains(out, "usage:") {
			t.Errorf("%q: a damaged file is not a usage error, yet the usage line is printed:\n%s", args, out)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != `{"format": 2, "keys": {` {
		t.Fatalf("a refused command changed the damaged file: %q", b)
	}

	out := mustExit(t, ExitOK, append(c, "watermark", "reset", "--all"), "could not be read, so every key is forgotten", path+".damaged-")
	aside := regexp.MustCompile(regexp.QuoteMeta(path) + `\.damaged-\S+`).FindString(out)
	if b, err := os.ReadFile(aside); err != nil || string(b) != `{"format": 2, "keys": {` {
		t.Errorf("the damaged file is not kept aside at %q: %q, %v", aside, b, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the damaged file is still in place: %v", err)
	}
	mustExit(t, ExitOK, append(c, "watermark", "show"), "no keys")
}

// A watermark file of another client key is that client's protection: a
// configuration error naming both keys, which no reset touches.
func TestWatermarkFileOfAnotherClient(t *testing.T) {
	t.Parallel()
	cfg, _ := pinnedConfig(t, "")
	other, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	f := quorum.OpenWatermarkFile(cfg.WatermarkPath(), wire.PublicID(other))
	if err := f.Save(context.Background(), quorum.Watermarks{Keys: map[string]quorum.Mark{"k": {Version: 3}}}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(cfg.WatermarkPath())
	if err != nil {
		t.Fatal(err)
	}
	c := []string{"--config", cfg.Path()}
	for _, args := range [][]string{{"get"}, {"put", "k", "4", "01"}, {"watermark", "show"}, {"watermark", "reset", "--all"}, {"watermark", "reset", "--key", "k"}} {
		out := mustExit(t, ExitUsage, append(c, args...), "belongs to client "+hex.EncodeToString(wire.PublicID(other)), `point "watermark" in the config at another file`)
		if strings.Contains(out, "moves it aside") {
			t.Errorf("%q: another client's file is not damaged:\n%s", args, out)
		}
	}
	if after, _ := os.ReadFile(cfg.WatermarkPath()); !bytes.Equal(before, after) {
		t.Error("a refused command changed another client's watermark file")
	}
}

// A watermark that cannot be written where the configuration puts it (here
// under a regular file) is refused before anything is sent.
func TestUnwritableWatermarkPath(t *testing.T) {
	t.Parallel()
	cfg, _ := pinnedConfig(t, "file/wm.json")
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg.Path()), "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := []string{"--config", cfg.Path()}
	for _, args := range [][]string{{"get"}, {"put", "k", "0", "01"}, {"watermark", "show"}} {
		mustExit(t, ExitUsage, append(c, args...), "watermark "+cfg.WatermarkPath(), "not a directory")
	}
}

// A put acknowledged by the quorum whose watermark cannot be saved afterwards
// says so once, with what was stored; a read in the same state still prints
// the verified data. Both exit 1: the protection across a restart is lost.
func TestWatermarkSaveFailsAfterTheOperation(t *testing.T) {
	t.Parallel()
	_, _, cfgPath, main := inProcess(t)
	cfg, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// A dangling symbolic link on the way: loading finds no file (a first
	// run), saving cannot create the directory.
	dir := filepath.Dir(cfgPath)
	if err := os.Symlink(filepath.Join(dir, "gone", "away"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	cfg.Watermark = "link/sub/wm.json"
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	main(ExitOK, "init")
	const saved = "the operation succeeded but its watermark was not saved"
	out := main(ExitFailure, "put", "k", "0", "0a")
	if !strings.Contains(out, "put 1 key(s)") || strings.Count(out, saved) != 1 {
		t.Errorf("put with an unsaveable watermark: want what was stored and %q once:\n%s", saved, out)
	}
	out = main(ExitFailure, "get", "k")
	if !regexp.MustCompile(`(?m)^k\s+0\s+0a$`).MatchString(out) || strings.Count(out, saved) != 1 {
		t.Errorf("get with an unsaveable watermark: want the entry and %q once:\n%s", saved, out)
	}
}

// One server listed twice would count twice towards a quorum. Under two
// addresses nothing tells until init asks it for its server_id: init then
// refuses, as a configuration error, and changes nothing.
func TestInitRefusesOneServerListedTwice(t *testing.T) {
	t.Parallel()
	_, network, _, _ := inProcess(t)
	cfg := qconfig.New(filepath.Join(t.TempDir(), "config.json"))
	for _, p := range network.Providers() {
		cfg.Providers = append(cfg.Providers, qconfig.Provider{Name: p.Name(), Addr: p.Addr()})
	}
	_, port, err := net.SplitHostPort(network.Providers()[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Providers = append(cfg.Providers, qconfig.Provider{Name: "again", Addr: "localhost:" + port})
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(cfg.Path())
	if err != nil {
		t.Fatal(err)
	}
	mustExit(t, ExitUsage, []string{"--config", cfg.Path(), "init"},
		`provider "again" (providers[3]): "server_id"`, "is also pinned for providers[0]", "the configuration was not changed")
	if after, _ := os.ReadFile(cfg.Path()); !bytes.Equal(before, after) {
		t.Error("a refused init changed the configuration")
	}
}

// While another process holds the watermark's lock (a signer saving) past the
// wait, a command fails (exit 1, not a configuration error) and reset --all
// leaves the file where it is: a file that could not be locked is not damaged.
func TestWatermarkLockedByAnotherProcess(t *testing.T) {
	t.Parallel()
	cfg, key := pinnedConfig(t, "")
	f := quorum.OpenWatermarkFile(cfg.WatermarkPath(), wire.PublicID(key))
	if err := f.Save(context.Background(), quorum.Watermarks{Keys: map[string]quorum.Mark{"k": {Version: 1}}}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(cfg.WatermarkPath())
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(cfg.WatermarkPath()+".lock", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	out := mustExit(t, ExitFailure, []string{"--config", cfg.Path(), "watermark", "reset", "--all"}, "another process holds")
	if strings.Contains(out, "moves it aside") || strings.Contains(out, "damaged") {
		t.Errorf("a locked watermark is called damaged:\n%s", out)
	}
	if after, err := os.ReadFile(cfg.WatermarkPath()); err != nil || !bytes.Equal(before, after) {
		t.Errorf("reset --all changed a watermark it could not lock: %q, %v", after, err)
	}
}
