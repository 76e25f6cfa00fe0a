package lssdcli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// binary is the lssd built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lssd-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "lssd")
	if out, err := exec.Command("go", "build", "-o", binary, "../cmd/lssd").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := testdb.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running lssd binary.
type process struct {
	cmd      *exec.Cmd
	addr     string
	serverID []byte
	logs     chan string // every log line after the listening one
	done     chan error
}

// startBinary runs lssd with args on a free port and waits for its listening line.
func startBinary(t *testing.T, args ...string) *process {
	t.Helper()
	args = append([]string{"--port", "0", "--log-format", "json"}, args...)
	cmd := exec.Command(binary, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: make(chan string, 100), done: make(chan error, 1)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			var rec struct {
				Msg      string `json:"msg"`
				Addr     string `json:"addr"`
				ServerID string `json:"server_id"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "lssd listening" {
				p.addr = rec.Addr
				p.serverID, _ = hex.DecodeString(rec.ServerID)
				ready <- nil
				continue
			}
			select {
			case p.logs <- line:
			default:
			}
		}
		close(p.logs)
		ready <- errors.New("lssd exited before listening")
		p.done <- cmd.Wait()
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("%v; logs: %s", err, drain(p.logs))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("lssd did not report its address within 10s")
	}
	return p
}

func drain(logs chan string) string {
	var b strings.Builder
	for l := range logs {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// signal sends sig and waits for the process to exit, returning its logs.
func (p *process) signal(t *testing.T, sig os.Signal) (string, error) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-time.After(10 * time.Second):
		t.Fatal("lssd did not exit within 10s of the signal")
	case err := <-p.done:
		return drain(p.logs), err
	}
	return "", nil
}

// testClient authenticates to the server with a fixed key.
type testClient struct {
	rpc    lsspb.LightningStorageClient
	auth   *lsspb.Auth
	secret []byte
}

func newTestClient(t *testing.T, p *process, priv *secp256k1.PrivateKey) *testClient {
	conn, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pub, err := wire.ParsePublicKey(p.serverID)
	if err != nil {
		t.Fatalf("logged server_id: %v", err)
	}
	secret := wire.SharedSecret(priv, pub)
	token := wire.Token(secret)
	return &testClient{rpc: lsspb.NewLightningStorageClient(conn),
		auth: &lsspb.Auth{ClientId: wire.PublicID(priv), Token: token[:]}, secret: secret[:]}
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestServeStopAndRestart(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, "--datadir", dir)
	info, err := newTestClient(t, p, secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x11}, 32))).rpc.Info(ctx10(t), &lsspb.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(info.ServerId, p.serverID) {
		t.Errorf("Info server_id %x, logged %x", info.ServerId, p.serverID)
	}
	// Info reports the version --version prints, both from the build information.
	out, err := exec.Command(binary, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if want := strings.Replace(first, " version ", " ", 1); info.Version != want || want == "lssd " {
		t.Errorf("Info version %q, --version %q", info.Version, first)
	}

	priv, _ := secp256k1.GeneratePrivateKey()
	c := newTestClient(t, p, priv)
	kvs := []*lsspb.KeyValue{{Key: "k", Version: 0, Value: []byte("v")}}
	reply, err := c.rpc.Put(ctx10(t), &lsspb.PutRequest{Auth: c.auth, Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)})
	if err != nil || !reply.Success {
		t.Fatalf("Put: %v, %v", reply, err)
	}

	logs, err := p.signal(t, syscall.SIGTERM)
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, logs)
	}
	if !strings.Contains(logs, "lssd stopped") {
		t.Errorf("no graceful stop in the logs:\n%s", logs)
	}

	p2 := startBinary(t, "--datadir", dir)
	if !bytes.Equal(p2.serverID, p.serverID) {
		t.Errorf("server_id changed across restart: %x then %x", p.serverID, p2.serverID)
	}
	c2 := newTestClient(t, p2, priv)
	got, err := c2.rpc.Get(ctx10(t), &lsspb.GetRequest{Auth: c2.auth, Nonce: []byte("n")})
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v" {
		t.Fatalf("Get after restart: %v, %v", got, err)
	}
	if logs, err := p2.signal(t, syscall.SIGINT); err != nil {
		t.Fatalf("exit after SIGINT: %v; logs:\n%s", err, logs)
	}
}

func TestStartupErrorsExitNonZero(t *testing.T) {
	corrupt := t.TempDir()
	keyFile := filepath.Join(corrupt, "server_key")
	if err := os.WriteFile(keyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		words string
		code  int
	}{
		{"corrupt key", []string{"--datadir", corrupt}, "corrupt", ExitFailure},
		{"bad log level", []string{"--datadir", t.TempDir(), "--log-level", "loud"}, "--log-level", ExitUsage},
		{"unknown database", []string{"--datadir", t.TempDir(), "--database", "mongo"}, "mongo", ExitFailure},
		{"negative limit", []string{"--datadir", t.TempDir(), "--max-keys-per-put", "-1"}, "max keys per put", ExitFailure},
		{"negative quota", []string{"--datadir", t.TempDir(), "--max-bytes-per-client", "-5"}, "max bytes per client is -5", ExitFailure},
		{"stray argument", []string{"--datadir", t.TempDir(), "extra"}, "unknown command", ExitUsage},
	}
	for _, tc := range cases {
		cmd := exec.Command(binary, append([]string{"--port", "0"}, tc.args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdout = io.Discard
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
				t.Errorf("%s: exit %v, want status %d", tc.name, err, tc.code)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s: lssd kept running", tc.name)
		}
		if !strings.Contains(stderr.String(), tc.words) {
			t.Errorf("%s: stderr %q does not mention %q", tc.name, stderr.String(), tc.words)
		}
	}
	if b, _ := os.ReadFile(keyFile); string(b) != "garbage" {
		t.Error("corrupt key file was replaced")
	}
}

func TestExpandHome(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	for in, want := range map[string]string{
		"~/.lss": filepath.Join(home, ".lss"), "~": home, "/abs/~x": "/abs/~x", "rel": "rel", "~user/x": "~user/x",
	} {
		if got, err := expandHome(in); err != nil || got != want {
			t.Errorf("expandHome(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
