package quorumcli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/quorumcli"
)

// These tests run the lss-quorum binary as a user would: built once, run with
// its own HOME, against real providers started by `testnet up` in the
// background.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lss-quorum-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "lss-quorum")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/lssquorum/lss/cmd/lss-quorum").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building lss-quorum: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one finished run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// env is a fresh user: a HOME of its own and no LSS_QUORUM_CONFIG.
func env(home string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, quorumcli.ConfigEnv+"=") {
			out = append(out, kv)
		}
	}
	return append(out, "HOME="+home)
}

// run runs the binary to completion, bounded by a minute.
func run(t *testing.T, home string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env(home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			t.Fatalf("lss-quorum %q: %v (%v)\nstdout:\n%s\nstderr:\n%s", args, err, ctx.Err(), stdout.String(), stderr.String())
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// expect checks the exit status and that every want appears in stdout+stderr.
func expect(t *testing.T, r result, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Fatalf("output lacks %q: %s", w, r)
		}
	}
}

// background is `lss-quorum testnet up` running in the background.
type background struct {
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  bytes.Buffer
}

func (b *background) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// startTestnet starts `testnet up` with args and waits (bounded) until it has
// written the configuration at cfgPath. It is stopped by its PID at cleanup.
func startTestnet(t *testing.T, home, cfgPath string, args ...string) *background {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--config", cfgPath, "testnet", "up"}, args...)...)
	cmd.Env = env(home)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &background{cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{b: b}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		defer close(b.done)
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			b.mu.Lock()
			b.out.WriteString(sc.Text() + "\n")
			b.mu.Unlock()
			if !signalled && strings.HasPrefix(sc.Text(), "configuration written to") {
				close(ready)
				signalled = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() { b.stop(t) })
	select {
	case <-ready:
	case <-b.done:
		t.Fatalf("testnet up exited early:\n%s", b.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("testnet up did not write %s within 30s:\n%s", cfgPath, b.output())
	}
	if _, err := os.Stat(cfgPath); err != nil {
		t.Fatalf("testnet up said it wrote the configuration, but: %v", err)
	}
	return b
}

// stop sends SIGTERM to the testnet's PID and waits (bounded) for it to exit,
// killing it if it does not. Calling it twice is harmless.
func (b *background) stop(t *testing.T) {
	t.Helper()
	select {
	case <-b.done:
		return
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(15 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
		t.Errorf("testnet up did not stop within 15s of SIGTERM:\n%s", b.output())
	}
}

type lockedWriter struct{ b *background }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	return w.b.out.Write(p)
}

func TestDemo(t *testing.T) {
	t.Parallel()
	r := run(t, t.TempDir(), "demo")
	expect(t, r, 0,
		"=== 1. Start three local LSS providers ===",
		`p2: restored "demo/balance" v0 -> v1`,
		"=> p2 is up to date again: the rollback is repaired.",
		`p1 still holds a bad value for "demo/peer" at v0`,
		"All providers agree.",
		"rolled back: p2",
		"tampered:    p1",
	)
	// The audit names the rolled-back provider with its keys and versions, and
	// the tampered one with its key and version.
	lineMatch(t, r.stdout, `^\s+- p2 is BEHIND .*`+regexp.QuoteMeta(quorum.KeyComparison{Key: "demo/balance", Version: 0, Others: 1}.String()))
	lineMatch(t, r.stdout, `^\s+- p2 is BEHIND .*`+regexp.QuoteMeta(quorum.KeyComparison{Key: "demo/htlc", Version: -1, Others: 0}.String()))
	lineMatch(t, r.stdout, `^\s+- p1 is FAULTY: .*"demo/peer" v0`)
	lineMatch(t, r.stdout, `^\s+p2: rolled back \(rolled back: `)
	if r.stderr != "" {
		t.Errorf("demo wrote to stderr:\n%s", r.stderr)
	}
}

// auditJSON parses the output of audit --json.
func auditJSON(t *testing.T, r result) *quorum.AuditReport {
	t.Helper()
	var rep quorum.AuditReport
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("audit --json is not an audit report: %v\n%s", err, r)
	}
	return &rep
}

// lineMatch reports whether some line of s matches the regular expression.
func lineMatch(t *testing.T, s, expr string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)` + expr).MatchString(s) {
		t.Fatalf("no line matches %q in:\n%s", expr, s)
	}
}

func TestWorkflowAgainstATestnet(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "q", "config.json")
	startTestnet(t, home, cfgPath, "-n", "3")

	cfg, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Providers) != 3 || cfg.TestnetDir == "" || cfg.RequirePinned() != nil {
		t.Fatalf("testnet up wrote %+v", cfg)
	}

	c := []string{"--config", cfgPath}
	r := run(t, home, append(c, "init")...)
	expect(t, r, 0, "created client key "+filepath.Join(home, "q", "client-key"), "configuration saved")
	for _, p := range cfg.Providers {
		lineMatch(t, r.stdout, `^\s+`+p.Name+`\s+`+regexp.QuoteMeta(p.Addr)+`\s+server_id `+p.ServerID+`\s+already pinned`)
	}
	expect(t, run(t, home, append(c, "init")...), 0, "using client key")

	expect(t, run(t, home, append(c, "put", "b", "0", "0b", "a", "0", "0a")...), 0, "put 2 key(s)", "acknowledged: ")
	// At an acknowledged version with another value: refused before sending.
	r = run(t, home, append(c, "put", "a", "0", "ff")...)
	expect(t, r, 4, "put refused, nothing was sent", `"a" v0 is the acknowledged version, with another value`)

	r = run(t, home, append(c, "get")...)
	expect(t, r, 0, "providers (read quorum 2 of 3):")
	lineMatch(t, r.stdout, `^a\s+0\s+0a$`)
	lineMatch(t, r.stdout, `^b\s+0\s+0b$`)
	for _, p := range cfg.Providers {
		lineMatch(t, r.stdout, `^\s+`+p.Name+`\s+up to date\s+2 key\(s\)$`)
	}

	expect(t, run(t, home, append(c, "put", "a", "1", "0x0a01")...), 0)
	r = run(t, home, append(c, "get", "a")...)
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^a\s+1\s+0a01$`)
	if strings.Contains(r.stdout, "0b") {
		t.Errorf("get a returned keys outside the prefix:\n%s", r.stdout)
	}

	// The watermark file records what this client saw acknowledged.
	key, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(key.WatermarkPath())
	if err != nil {
		t.Fatal(err)
	}
	var wm struct {
		Keys map[string]struct {
			Version int64  `json:"version"`
			SHA256  string `json:"sha256"`
		} `json:"keys"`
		Providers map[string]map[string]int64 `json:"providers"`
	}
	if err := json.Unmarshal(b, &wm); err != nil || wm.Keys["a"].Version != 1 || wm.Keys["b"].Version != 0 ||
		wm.Keys["a"].SHA256 != hex.EncodeToString(quorum.ValueDigest([]byte{0x0a, 0x01})) || len(wm.Providers) != 3 {
		t.Errorf("watermark file = %s (%v)", b, err)
	}

	r = run(t, home, append(c, "audit")...)
	expect(t, r, 0, `Audit of prefix "": 3 providers (W=2, R=2), 2 keys merged, verdict: AGREE`, "All providers agree.")

	r = run(t, home, append(c, "audit", "--json")...)
	expect(t, r, 0)
	rep := auditJSON(t, r)
	if rep.Verdict != quorum.Agree || rep.Keys != 2 || len(rep.Providers) != 3 || rep.Providers[0].ServerIDCheck != quorum.ServerIDPinned {
		t.Errorf("audit --json = %+v", rep)
	}

	r = run(t, home, append(c, "audit", "--repair", "--json")...)
	expect(t, r, 0)
	rep = auditJSON(t, r)
	if rep.Repair == nil || rep.After == nil || rep.After.Verdict != quorum.Agree {
		t.Errorf("audit --repair --json = %+v", rep)
	}

	// Nothing is left prepared after a clean run.
	expect(t, run(t, home, append(c, "recover", "--dry-run")...), 0, "no transaction is left prepared")
	r = run(t, home, append(c, "recover", "--json")...)
	expect(t, r, 0)
	var rec map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Errorf("recover --json is not JSON: %v\n%s", err, r)
	}

	// Bad arguments are usage errors (exit 2) that say what is wrong.
	expect(t, run(t, home, append(c, "put", "a", "x", "00")...), 2, `version "x"`)
	expect(t, run(t, home, append(c, "put", "a", "2")...), 2, "triples")
	expect(t, run(t, home, append(c, "get", "a", "b")...), 2, "get takes 0 to 1 argument(s), got 2")
	expect(t, run(t, home, append(c, "audit", "--bogus")...), 2, "unknown flag: --bogus")

	t.Run("an unreachable provider makes the audit fail", func(t *testing.T) {
		// The same network plus a fourth provider nobody runs: reads still have
		// their quorum (3 of 4), but the audit must say the providers disagree.
		cfg4, err := qconfig.Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		cfg4.SetPath(filepath.Join(home, "q4", "config.json"))
		cfg4.ClientKey = filepath.Join(home, "q", "client-key")
		cfg4.TestnetDir = ""
		cfg4.Timeout = qconfig.Duration(3 * time.Second)
		cfg4.Providers = append(cfg4.Providers, qconfig.Provider{Name: "ghost", Addr: "127.0.0.1:1", ServerID: randomID(t)})
		if err := cfg4.Save(); err != nil {
			t.Fatal(err)
		}
		c4 := []string{"--config", cfg4.Path()}
		r := run(t, home, append(c4, "get", "a")...)
		expect(t, r, 0)
		lineMatch(t, r.stdout, `^\s+ghost\s+unreachable\s+.*ghost`)
		r = run(t, home, append(c4, "audit")...)
		expect(t, r, 3, "verdict: DISAGREE", "providers disagree: 1 problem(s)")
		lineMatch(t, r.stdout, `^\s+- ghost is unreachable`)
		r = run(t, home, append(c4, "audit", "--repair", "--json")...)
		expect(t, r, 3, "providers disagree after the repair")
		if rep := auditJSON(t, r); rep.After == nil || rep.After.Providers[3].Status != quorum.Unreachable {
			t.Errorf("after the repair the ghost should still be unreachable: %s", r)
		}
		r = run(t, home, append(c4, "init")...)
		expect(t, r, 1, "not pinned, unreachable: ghost")
		// What the ghost holds prepared is unknown: recover does not say "none".
		expect(t, run(t, home, append(c4, "recover")...), 3, "unreachable: ghost: ", "ghost could not be asked")
	})
}

func TestInitRefusesAChangedServerID(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.json")
	startTestnet(t, home, cfgPath, "-n", "3")
	cfg, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	real := cfg.Providers[1].ServerID
	// Pin p1 to another valid key, as if a different server answered at its address.
	pinned := randomID(t)
	cfg.Providers[1].ServerID = pinned
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfgPath)

	r := run(t, home, "--config", cfgPath, "init")
	expect(t, r, 1, `provider "p1" reports server_id `+real+" but "+pinned+" is pinned", "init --force", "not changed")
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(before, after) {
		t.Error("a refused init changed the configuration")
	}
	// The quorum refuses the impostor too: reads name p1 as faulty and ignore it.
	expect(t, run(t, home, "--config", cfgPath, "put", "k", "0", "01", "j", "0", "02"), 0)
	r = run(t, home, "--config", cfgPath, "get")
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^\s+p1\s+faulty\s+.*server_id`)
	r = run(t, home, "--config", cfgPath, "audit")
	expect(t, r, 3)
	lineMatch(t, r.stdout, `^\s+- p1 is FAULTY: .*`+real)

	expect(t, run(t, home, "--config", cfgPath, "init", "--force"), 0, "RE-PINNED")
	cfg, err = qconfig.Load(cfgPath)
	if err != nil || cfg.Providers[1].ServerID != real {
		t.Fatalf("after init --force: %+v, %v", cfg, err)
	}
	// p1 missed the put while it was refused; repair brings it forward: get
	// --repair for the keys it reads, audit --repair for the rest.
	r = run(t, home, "--config", cfgPath, "audit")
	expect(t, r, 3)
	lineMatch(t, r.stdout, `^\s+- p1 is BEHIND .*`+regexp.QuoteMeta(quorum.KeyComparison{Key: "k", Version: -1, Others: 0}.String()))
	lineMatch(t, r.stdout, `^\s+- p1 is BEHIND .*`+regexp.QuoteMeta(quorum.KeyComparison{Key: "j", Version: -1, Others: 0}.String()))
	r = run(t, home, "--config", cfgPath, "get", "j", "--repair")
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^\s+p1\s+behind\s+`)
	expect(t, run(t, home, "--config", cfgPath, "audit", "j"), 0)
	expect(t, run(t, home, "--config", cfgPath, "audit", "k"), 3)
	r = run(t, home, "--config", cfgPath, "audit", "--repair", "--json")
	expect(t, r, 0)
	rep := auditJSON(t, r)
	if rep.Repair == nil || rep.After == nil || rep.After.Verdict != quorum.Agree ||
		len(rep.Repair.Providers) != 3 || len(rep.Repair.Providers[1].Restored) != 1 || rep.Repair.Providers[1].Restored[0].Key != "k" {
		t.Fatalf("audit --repair did not restore k on p1: %s", r)
	}
	expect(t, run(t, home, "--config", cfgPath, "audit"), 0, "All providers agree.")
}

// TestRollbackOfEveryProviderIsCaughtAcrossRuns rolls back the data of every
// provider between two runs of the command: only the watermark file can tell.
func TestRollbackOfEveryProviderIsCaughtAcrossRuns(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.json")
	data := filepath.Join(home, "net")
	c := []string{"--config", cfgPath}

	net := startTestnet(t, home, cfgPath, "-n", "3", "--dir", data)
	expect(t, run(t, home, append(c, "init")...), 0)
	expect(t, run(t, home, append(c, "put", "k", "0", "01")...), 0)
	net.stop(t)
	old := filepath.Join(home, "old")
	copyTree(t, data, old) // every provider's data, holding k v0

	net = startTestnet(t, home, cfgPath, "-n", "3", "--dir", data)
	expect(t, run(t, home, append(c, "put", "k", "1", "02")...), 0)
	r := run(t, home, append(c, "get", "k")...)
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^k\s+1\s+02$`)
	net.stop(t)

	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	copyTree(t, old, data) // every provider rolled back to k v0
	startTestnet(t, home, cfgPath, "-n", "3", "--dir", data)

	r = run(t, home, append(c, "get", "k")...)
	expect(t, r, 4, quorum.ErrRollback.Error(), `"k"`,
		"Ways out", "lss-quorum audit --repair", "lss-quorum watermark reput k 1 HEXVALUE", "lss-quorum watermark reset --key k")
	if regexp.MustCompile(`(?m)^k\s`).MatchString(r.stdout) {
		t.Errorf("get printed rolled-back data:\n%s", r.stdout)
	}
	// Each provider is named rolled back on k (this fresh process knows what
	// each confirmed from the watermark file), none "up to date".
	for _, p := range []string{"p0", "p1", "p2"} {
		lineMatch(t, r.stdout, `^\s+`+p+`\s+rolled back\s+1 key\(s\); ROLLED BACK: "k" confirmed v1, now v0$`)
	}
	r = run(t, home, append(c, "audit", "--json")...)
	expect(t, r, 4)
	rep := auditJSON(t, r)
	if len(rep.RolledBack) != 1 || rep.RolledBack[0] != (quorum.KeyRollback{Key: "k", Watermark: 1, Merged: 0}) {
		t.Errorf("audit --json rolled_back = %+v, want k at v0 below the watermark v1", rep.RolledBack)
	}
	for _, p := range rep.Providers {
		if p.Status != quorum.RolledBack || len(p.RolledBack) != 1 {
			t.Errorf("audit --json: %s is %v with %v, want rolled back on k", p.Name, p.Status, p.RolledBack)
		}
	}
	r = run(t, home, append(c, "audit")...)
	expect(t, r, 4, `p0 ROLLED BACK: it lost versions it had confirmed to this client`, "Ways out", "lss-quorum watermark reset --key k")

	// Observation 7: no put at or below the acknowledged version gets through,
	// whatever the value.
	for _, try := range [][]string{{"k", "0", "ff"}, {"k", "1", "ee"}} {
		expect(t, run(t, home, append(c, append([]string{"put"}, try...)...)...), 4, "put refused, nothing was sent")
	}
	// The acknowledged value goes back at its version, and only it.
	expect(t, run(t, home, append(c, "watermark", "reput", "k", "1", "ee")...), 2, "not the acknowledged version and value")
	expect(t, run(t, home, append(c, "watermark", "reput", "k", "1", "02")...), 0, "1 key(s) back at their acknowledged versions")
	r = run(t, home, append(c, "get", "k")...)
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^k\s+1\s+02$`)

	expect(t, run(t, home, append(c, "watermark", "reset")...), 2, "--key KEY (repeatable) or --all")
	r = run(t, home, append(c, "watermark", "show")...)
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^k\s+1\s+`+hex.EncodeToString(quorum.ValueDigest([]byte{2}))+`$`)
	expect(t, run(t, home, append(c, "watermark", "reset", "--key", "k")...), 0, `forgot "k" (acknowledged at v1)`)
	expect(t, run(t, home, append(c, "watermark", "show")...), 0, "no keys")
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	// CopyFS makes every file 0644; keep the originals' modes, as lssd refuses a
	// server key others can read.
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		return os.Chmod(filepath.Join(dst, rel), info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBadConfiguration(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(home, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const id = "02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27"

	missing := filepath.Join(home, "nope.json")
	expect(t, run(t, home, "--config", missing, "get"), 2, "configuration file not found: "+missing, "testnet up")

	// The default path is under HOME.
	expect(t, run(t, home, "audit"), 2, filepath.Join(home, ".lss-quorum", "config.json"))

	dup := write("dup.json", `{"providers": [{"name": "a", "addr": "127.0.0.1:1"}, {"name": "a", "addr": "127.0.0.1:2"}]}`)
	expect(t, run(t, home, "--config", dup, "get"), 2, dup, `provider "a" (providers[1])`, "unique")

	badID := write("badid.json", `{"providers": [{"name": "alice", "addr": "127.0.0.1:1", "server_id": "xyz"}]}`)
	expect(t, run(t, home, "--config", badID, "audit"), 2, `provider "alice" (providers[0]): "server_id"`, "not hex")

	syntax := write("syntax.json", "{\n  \"providers\": [\n    {\"name\": \"a\",}\n  ]\n}")
	expect(t, run(t, home, "--config", syntax, "put", "k", "0", "00"), 2, "invalid JSON at line 3")

	quorumSizes := write("wr.json", `{"providers": [{"name": "a", "addr": "127.0.0.1:1"}, {"name": "b", "addr": "127.0.0.1:2"}], "w": 1, "r": 1}`)
	expect(t, run(t, home, "--config", quorumSizes, "get"), 2, `"w" + "r" must exceed`)

	unpinned := write("unpinned.json", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server_id": "`+id+`"}, {"name": "b", "addr": "127.0.0.1:2"}]}`)
	expect(t, run(t, home, "--config", unpinned, "get"), 2, `provider "b" (providers[1]): "server_id" is not pinned yet: run `+"`lss-quorum init`")

	nokey := write("nokey.json", `{"providers": [{"name": "a", "addr": "127.0.0.1:1", "server_id": "`+id+`"}]}`)
	expect(t, run(t, home, "--config", nokey, "get"), 2, "client key "+filepath.Join(home, "client-key")+" does not exist: run `lss-quorum init` first")

	// testnet up leaves a real deployment's configuration alone.
	before, _ := os.ReadFile(nokey)
	expect(t, run(t, home, "--config", nokey, "testnet", "up", "-n", "1"), 2, "describes a real deployment")
	if after, _ := os.ReadFile(nokey); !bytes.Equal(before, after) {
		t.Error("testnet up overwrote a real configuration")
	}
	expect(t, run(t, home, "--config", filepath.Join(home, "t.json"), "testnet", "up", "-n", "0"), 2, "-n must be at least 1")
	expect(t, run(t, home, "--config", filepath.Join(home, "t.json"), "testnet", "up", "--base-only", "5"), 2, "--base-only 5")

	expect(t, run(t, home, "help", "config"), 0, "providers[].server_id")
	expect(t, run(t, home, "bogus"), 2, `unknown command "bogus"`)
	expect(t, run(t, home), 0, "Available Commands:")

	// $LSS_QUORUM_CONFIG sets the default configuration.
	cmd := exec.Command(binary, "get")
	cmd.Env = append(env(home), quorumcli.ConfigEnv+"="+dup)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), dup) {
		t.Errorf("with %s set: %v\n%s", quorumcli.ConfigEnv, err, out)
	}
}

func TestNoReadQuorum(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfg := qconfig.New(filepath.Join(home, "config.json"))
	// Nobody listens on these ports: every dial is refused at once.
	cfg.Providers = []qconfig.Provider{{Name: "alice", Addr: "127.0.0.1:1", ServerID: randomID(t)}, {Name: "bob", Addr: "127.0.0.1:2", ServerID: randomID(t)}}
	cfg.Timeout = qconfig.Duration(2 * time.Second)
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	c := []string{"--config", cfg.Path()}
	r := run(t, home, append(c, "init")...)
	expect(t, r, 1, "created client key", "not pinned, unreachable: alice", "bob")

	r = run(t, home, append(c, "get")...)
	expect(t, r, 1, "quorum not reached: valid replies from 0 of 2 providers, need 2")
	lineMatch(t, r.stdout, `^\s+alice\s+unreachable\s+provider alice: `)
	lineMatch(t, r.stdout, `^\s+bob\s+unreachable\s+provider bob: `)

	// An atomic put no provider answered is indeterminate (a prepare may have
	// arrived before the connection failed): its own status, naming the command.
	r = run(t, home, append(c, "put", "k", "0", "00")...)
	expect(t, r, quorumcli.ExitIndeterminate, "alice", "bob", "unreachable: connection refused", "run `lss-quorum recover` to settle it")
	expect(t, run(t, home, append(c, "audit")...), 3)
	// No provider to read transaction records from: the recovery did not run.
	r = run(t, home, append(c, "recover")...)
	expect(t, r, 1, "recovery could not run: no provider answered (alice, bob unreachable)")
	if strings.Contains(r.stdout, "no transaction is left prepared\n") {
		t.Errorf("recover with every provider down claims nothing is left prepared:\n%s", r)
	}
}

func TestMixedNetworkWithABaseOnlyProvider(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.json")
	b := startTestnet(t, home, cfgPath, "-n", "3", "--base-only", "1")
	lineMatch(t, b.output(), `^\s+p1\s+\S+\s+server_id \S+\s+base protocol only$`)
	c := []string{"--config", cfgPath}
	expect(t, run(t, home, append(c, "init")...), 0)
	expect(t, run(t, home, append(c, "put", "k", "0", "01")...), 0)
	expect(t, run(t, home, append(c, "put", "k", "1", "02")...), 0)
	r := run(t, home, append(c, "get", "k")...)
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^k\s+1\s+02$`)
	r = run(t, home, append(c, "audit", "--repair")...)
	expect(t, r, 0)
}

// TestNewTestnetResetsTheWatermark: a new network (new server keys, empty data)
// starts with a fresh watermark, or every read would look like a rollback.
func TestNewTestnetResetsTheWatermark(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.json")
	c := []string{"--config", cfgPath}
	net := startTestnet(t, home, cfgPath, "-n", "3")
	expect(t, run(t, home, append(c, "init")...), 0)
	expect(t, run(t, home, append(c, "put", "k", "0", "01")...), 0)
	net.stop(t)

	startTestnet(t, home, cfgPath, "-n", "3")
	r := run(t, home, append(c, "get")...)
	expect(t, r, 0, "no keys")
	expect(t, run(t, home, append(c, "put", "k", "0", "02")...), 0)
}

// randomID is the hex server_id of a fresh key: a server nobody runs.
func randomID(t *testing.T) string {
	t.Helper()
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(k.PubKey().SerializeCompressed())
}

func TestJSONOutput(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "q", "config.json")
	startTestnet(t, home, cfgPath, "-n", "3")
	c := []string{"--config", cfgPath}
	expect(t, run(t, home, append(c, "init")...), 0)
	var r result
	// --json: one object a script can read.
	r = run(t, home, append(c, "put", "--json", "c", "0", "0c")...)
	var pj struct {
		Outcome      string   `json:"outcome"`
		Acknowledged []string `json:"acknowledged"`
		Stored       []struct {
			Key     string `json:"key"`
			Version int64  `json:"version"`
			Value   string `json:"value"`
		} `json:"stored"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &pj); err != nil || r.code != 0 || pj.Outcome != "stored" || len(pj.Acknowledged) < 2 ||
		len(pj.Stored) != 1 || pj.Stored[0].Key != "c" || pj.Stored[0].Value != "0c" {
		t.Errorf("put --json: %v %+v\n%s", err, pj, r)
	}
	r = run(t, home, append(c, "get", "--json", "c")...)
	var gj struct {
		Entries []struct {
			Key, Value string
			Version    int64
		} `json:"entries"`
		Providers []struct{ Name, Status string } `json:"providers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &gj); err != nil || r.code != 0 || len(gj.Entries) != 1 || gj.Entries[0].Value != "0c" ||
		len(gj.Providers) != 3 || gj.Providers[0].Status != "up to date" {
		t.Errorf("get --json: %v %+v\n%s", err, gj, r)
	}
}
