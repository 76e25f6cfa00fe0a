package lssdcli

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// putAndGet writes one key through p and reads it back.
func putAndGet(t *testing.T, p *process) {
	t.Helper()
	priv, _ := secp256k1.GeneratePrivateKey()
	c := newTestClient(t, p, priv)
	kvs := []*lsspb.KeyValue{{Key: "k", Version: 0, Value: []byte("v")}}
	reply, err := c.rpc.Put(ctx10(t), &lsspb.PutRequest{Auth: c.auth, Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)})
	if err != nil || !reply.Success {
		t.Fatalf("Put: %v, %v", reply, err)
	}
	got, err := c.rpc.Get(ctx10(t), &lsspb.GetRequest{Auth: c.auth, Nonce: bytes.Repeat([]byte{1}, 32)})
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v" {
		t.Fatalf("Get: %v, %v", got, err)
	}
}

func stop(t *testing.T, p *process) {
	t.Helper()
	if logs, err := p.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, logs)
	}
}

func TestPostgresURLFromEnvironment(t *testing.T) {
	t.Setenv("LSSD_POSTGRES_URL", testdb.PostgresURL(t))
	p := startBinary(t, "--datadir", t.TempDir(), "--database", "postgres")
	putAndGet(t, p)
	stop(t, p)
}

func TestEtcdEndpointsFlag(t *testing.T) {
	// A flag wins over the environment.
	t.Setenv("LSSD_ETCD_ENDPOINTS", "127.0.0.1:1")
	p := startBinary(t, "--datadir", t.TempDir(), "--database", "etcd",
		"--etcd-endpoints", strings.Join(testdb.EtcdEndpoints(t), ","))
	putAndGet(t, p)
	stop(t, p)
}

// runToExit runs lssd with args and env, expecting it to fail at startup, and
// returns its output.
func runToExit(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--port", "0", "--datadir", t.TempDir()}, args...)...)
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("lssd %v exited 0; want a startup error. Output:\n%s", args, out)
	}
	return string(out)
}

func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestUnreachableDatabaseIsAStartupError(t *testing.T) {
	addr := closedAddr(t)
	out := runToExit(t, []string{"LSSD_POSTGRES_URL=postgres://lss:sekrit-pw@" + addr + "/lss?sslmode=disable"}, "--database", "postgres")
	if !strings.Contains(out, addr) || strings.Contains(out, "sekrit-pw") {
		t.Errorf("postgres: output should name %s and not the password:\n%s", addr, out)
	}
	out = runToExit(t, []string{"LSSD_ETCD_ENDPOINTS= " + addr + " ,"}, "--database", "etcd")
	if !strings.Contains(out, addr) || !strings.Contains(out, "cannot reach") {
		t.Errorf("etcd: output should say %s cannot be reached:\n%s", addr, out)
	}
	for db, want := range map[string]string{"postgres": "--postgres-url", "etcd": "--etcd-endpoints"} {
		if out := runToExit(t, nil, "--database", db); !strings.Contains(out, want) {
			t.Errorf("%s without connection settings: output should mention %s:\n%s", db, want, out)
		}
	}
}

func TestSplitList(t *testing.T) {
	got := splitList(" a:1, b:2 ,,c:3 ")
	if strings.Join(got, "|") != "a:1|b:2|c:3" {
		t.Fatalf("splitList = %q", got)
	}
	if splitList(" , ") != nil {
		t.Fatal("a list of blanks is not empty")
	}
}

func TestFromEnvFlagWins(t *testing.T) {
	t.Setenv("LSSD_POSTGRES_URL", "postgres://env")
	t.Setenv("LSSD_ETCD_ENDPOINTS", "env:1,env:2")
	cmd := newRootCommand()
	if err := cmd.ParseFlags([]string{"--postgres-url", "postgres://flag"}); err != nil {
		t.Fatal(err)
	}
	var o lssd.Options
	o.PostgresURL = "postgres://flag"
	fromEnv(cmd, &o)
	if o.PostgresURL != "postgres://flag" || strings.Join(o.EtcdEndpoints, ",") != "env:1,env:2" {
		t.Fatalf("got %q and %q; want the flag's URL and the environment's endpoints", o.PostgresURL, o.EtcdEndpoints)
	}
}

func TestEtcdFlagsAndPasswordFromEnvironment(t *testing.T) {
	t.Setenv("LSSD_ETCD_PASSWORD", "env-pw")
	cmd, cfg := newRootCommandConfig()
	err := cmd.ParseFlags([]string{"--database", "etcd", "--etcd-endpoints", "https://a:2379,https://b:2379",
		"--etcd-prefix", "tenant/", "--etcd-ca", "/ca.crt", "--etcd-cert", "/client.crt", "--etcd-key", "/client.key",
		"--etcd-username", "lssd"})
	if err != nil {
		t.Fatal(err)
	}
	fromEnv(cmd, &cfg.opts)
	o := cfg.opts
	got := []string{o.Database, strings.Join(o.EtcdEndpoints, ","), o.EtcdPrefix, o.EtcdCA, o.EtcdCert, o.EtcdKey, o.EtcdUsername, o.EtcdPassword}
	want := []string{"etcd", "https://a:2379,https://b:2379", "tenant/", "/ca.crt", "/client.crt", "/client.key", "lssd", "env-pw"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("options = %q; want %q", got, want)
	}
	// The password has no flag, so it can never be put on the command line.
	if cmd.Flags().Lookup("etcd-password") != nil {
		t.Fatal("an --etcd-password flag exists; the password must come from the environment only")
	}
}

func TestEtcdFlagDefaults(t *testing.T) {
	t.Setenv("LSSD_ETCD_PASSWORD", "")
	cmd, cfg := newRootCommandConfig()
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	fromEnv(cmd, &cfg.opts)
	o := cfg.opts
	if o.EtcdPrefix != "" || o.EtcdCA != "" || o.EtcdCert != "" || o.EtcdKey != "" || o.EtcdUsername != "" || o.EtcdPassword != "" {
		t.Fatalf("etcd settings without flags or environment: %+v; want none (plaintext, default prefix, no auth)", o)
	}
}

func TestEtcdBadTLSFileIsAStartupError(t *testing.T) {
	missing := t.TempDir() + "/no-such-ca.crt"
	out := runToExit(t, nil, "--database", "etcd", "--etcd-endpoints", "https://"+closedAddr(t), "--etcd-ca", missing)
	if !strings.Contains(out, missing) || !strings.Contains(out, "etcd CA") {
		t.Errorf("output should name the missing etcd CA file %s:\n%s", missing, out)
	}
}
