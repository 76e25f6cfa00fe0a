package lsscli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildBinaries builds lssd and lss-cli into a temporary directory.
func buildBinaries(t *testing.T) (lssd, cli string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", dir+string(os.PathSeparator),
		"github.com/lssquorum/lss/cmd/lssd", "github.com/lssquorum/lss/cmd/lss-cli")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "lssd"), filepath.Join(dir, "lss-cli")
}

// freePort returns a port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().(*net.TCPAddr).Port
}

// startLSSD runs the lssd binary on a free 127.0.0.1 port with a fresh data
// directory, waits until it accepts connections and kills it (by its PID) when
// the test ends. The free port is only free when probed, so a start that loses
// the port to another process is retried a few times.
func startLSSD(t *testing.T, bin string) (port int) {
	t.Helper()
	datadir := t.TempDir()
	for attempt := 1; ; attempt++ {
		port, err := tryStartLSSD(t, bin, datadir)
		if err == nil {
			return port
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v", attempt, err)
	}
}

func tryStartLSSD(t *testing.T, bin, datadir string) (int, error) {
	port := freePort(t)
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "--interface", "127.0.0.1", "--port", strconv.Itoa(port), "--datadir", datadir)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill() // this process only, by its PID
		<-exited
		if t.Failed() {
			t.Logf("lssd on port %d:\n%s", port, logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return port, nil
		}
		select {
		case <-exited:
			return 0, fmt.Errorf("lssd exited early: %v\n%s", waitErr, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("lssd did not listen on port %d within 15s\n%s", port, logs.String())
		}
	}
}

// syncBuffer collects a child's output; it may be read while the child writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliResult is one lss-cli invocation.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the lss-cli binary with a deadline.
func runCLI(t *testing.T, bin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("lss-cli %v: %v", args, err)
	}
	return cliResult{stdout.String(), stderr.String(), code}
}

// TestBinariesSession drives the built lssd and lss-cli through the session of
// the original tool's README.
func TestBinariesSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	lssdBin, cliBin := buildBinaries(t)
	port := startLSSD(t, lssdBin)
	datadir := filepath.Join(t.TempDir(), "client")
	global := []string{"--rpc", strconv.Itoa(port), "--datadir", datadir}
	cli := func(args ...string) cliResult { return runCLI(t, cliBin, append(global, args...)...) }

	r := cli("ping")
	if r.code != 0 || r.stdout != "ping result: hello\n" {
		t.Fatalf("ping: %+v", r)
	}

	r = cli("init")
	if r.code != 0 || !strings.Contains(r.stdout, "created client key") ||
		!strings.Contains(r.stdout, "public key: ") || !strings.Contains(r.stdout, "server public key: ") {
		t.Fatalf("init: %+v", r)
	}
	info := cli("info")
	if info.code != 0 || !strings.HasPrefix(info.stdout, "public key: 0") || !strings.Contains(info.stdout, "\nserver public key: 0") {
		t.Fatalf("info: %+v", info)
	}
	for _, line := range strings.Split(strings.TrimSpace(info.stdout), "\n") {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("info line %q not what init printed:\n%s", line, r.stdout)
		}
	}

	steps := []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"put", "xx1", "0", "11"}, 0, "stored key: xx1, version: 0 value: 11\n"},
		{[]string{"put", "xx1", "0", "11"}, 1, "conflict key: xx1, version: 0 value: 11\n"},
		{[]string{"put", "xy1", "0", "11"}, 0, "stored key: xy1, version: 0 value: 11\n"},
		{[]string{"put", "xy2", "0", "22"}, 0, "stored key: xy2, version: 0 value: 22\n"},
		{[]string{"get", "xx"}, 0, "key: xx1, version: 0 value: 11\n"},
		{[]string{"get", "xy"}, 0, "key: xy1, version: 0 value: 11\nkey: xy2, version: 0 value: 22\n"},
		{[]string{"get", "xy1"}, 0, "key: xy1, version: 0 value: 11\n"},
	}
	for _, s := range steps {
		r := cli(s.args...)
		if r.code != s.code || r.stdout != s.stdout {
			t.Errorf("lss-cli %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q",
				strings.Join(s.args, " "), r.code, r.stdout, r.stderr, s.code, s.stdout)
		}
		if s.code != 0 && !strings.Contains(r.stderr, "put conflict") {
			t.Errorf("lss-cli %s: stderr %q, want it to say put conflict", strings.Join(s.args, " "), r.stderr)
		}
	}

	// init again keeps the key and the pin.
	again := cli("init")
	if again.code != 0 || strings.Contains(again.stdout, "created") || strings.Contains(again.stdout, "pinned") {
		t.Errorf("second init: %+v", again)
	}
	if after := cli("info"); after.stdout != info.stdout {
		t.Errorf("info changed after a second init: %q, was %q", after.stdout, info.stdout)
	}
}
