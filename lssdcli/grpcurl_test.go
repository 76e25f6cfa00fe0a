package lssdcli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// readmeGrpcurlLines returns the grpcurl command lines of the README's sh
// blocks, without their trailing comments.
func readmeGrpcurlLines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	inSh := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			inSh = !inSh && strings.TrimPrefix(line, "```") == "sh"
		case inSh && strings.HasPrefix(line, "grpcurl "):
			if i := strings.Index(line, " # "); i >= 0 {
				line = line[:i]
			}
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// Every grpcurl line of the README works as written against a real lssd (only
// the address differs: the test's lssd listens on a free port). Skipped when
// grpcurl is not installed, except in CI, which installs it.
func TestReadmeGrpcurlLines(t *testing.T) {
	if _, err := exec.LookPath("grpcurl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("grpcurl is not on the PATH; .ci/run installs it")
		}
		t.Skip("grpcurl is not on the PATH (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4)")
	}
	t.Parallel()
	lines := readmeGrpcurlLines(t)
	if len(lines) < 5 {
		t.Fatalf("found %d grpcurl lines in the README, want at least 5: %q", len(lines), lines)
	}
	p := startBinary(t, "--datadir", t.TempDir())
	wants := map[string]string{
		" list":                         "lss.LightningStorage",
		"describe lss.LightningStorage": "rpc Restore",
		"Health/Check":                  `"SERVING"`,
		"LightningStorage/Info":         `"serverId"`,
	}
	for _, line := range lines {
		if !strings.Contains(line, "127.0.0.1:55551") {
			t.Errorf("README line %q does not use lssd's default address", line)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, "sh", "-c", strings.ReplaceAll(line, "127.0.0.1:55551", p.addr)).CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, out)
			continue
		}
		for cue, want := range wants {
			if strings.Contains(line, cue) && !strings.Contains(string(out), want) {
				t.Errorf("%s: output lacks %q:\n%s", line, want, out)
			}
		}
	}
}
