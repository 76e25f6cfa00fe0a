package lssd

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/lssquorum/lss/internal/testcerts"
	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// etcdOptionsFor are options for a daemon on a random loopback port storing in the
// etcd cluster at endpoints.
func etcdOptionsFor(t *testing.T, endpoints ...string) Options {
	opts := testOptions(t)
	opts.Database = "etcd"
	opts.EtcdEndpoints = endpoints
	// Authenticating runs bcrypt on the embedded etcd, slow under the race
	// detector on a busy machine: connecting gets more than the 5 s default.
	opts.EtcdDialTimeout = 30 * time.Second
	return opts
}

// clientAs is a test client with the given key, so that one signer can talk to
// several servers.
func clientAs(t *testing.T, d *Daemon, priv *secp256k1.PrivateKey) *client {
	t.Helper()
	pub, err := wire.ParsePublicKey(d.ServerID())
	if err != nil {
		t.Fatal(err)
	}
	secret := wire.SharedSecret(priv, pub)
	token := wire.Token(secret)
	return &client{t: t, rpc: dial(t, d.Addr()), id: wire.PublicID(priv), secret: secret[:], token: token[:]}
}

// etcdKeys lists the keys under prefix, read with the etcd client directly.
func etcdKeys(t *testing.T, cli *clientv3.Client, prefix string) []string {
	t.Helper()
	resp, err := cli.Get(ctxT(t), prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatalf("etcd get %q: %v", prefix, err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	return keys
}

func newEtcdClient(t *testing.T, cfg clientv3.Config) *clientv3.Client {
	t.Helper()
	cfg.DialTimeout = 5 * time.Second
	cfg.Logger = zap.NewNop()
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func TestEtcdPrefixSeparatesStores(t *testing.T) {
	t.Parallel()
	endpoints := testdb.EtcdEndpoints(t)
	run := fmt.Sprintf("lssd-prefix-test-%d/", time.Now().UnixNano())
	prefixA, prefixB := run+"a/", run+"b/"

	optsA := etcdOptionsFor(t, endpoints...)
	optsA.EtcdPrefix = prefixA
	optsB := etcdOptionsFor(t, endpoints...)
	optsB.EtcdPrefix = prefixB
	a, b := startDaemon(t, optsA), startDaemon(t, optsB)

	signer, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	onA, onB := clientAs(t, a, signer), clientAs(t, b, signer)
	onA.mustPut(kv("k", 0, "on a"))

	cli := newEtcdClient(t, clientv3.Config{Endpoints: endpoints})
	id := hex.EncodeToString(wire.PublicID(signer))
	keysA := etcdKeys(t, cli, prefixA)
	if !contains(keysA, prefixA+id+"/d/k") || !contains(keysA, prefixA+"schema") {
		t.Fatalf("keys under %q = %q; want the schema and the client's key k", prefixA, keysA)
	}
	if got := etcdKeys(t, cli, "lss/"+id+"/"); len(got) != 0 {
		t.Fatalf("keys under the default prefix for this client: %q; want none", got)
	}

	// The same signer on the other store sees nothing of the first, and what it
	// writes there stays there.
	wantKVs(t, "get on b before its put", onB.get(""))
	onB.mustPut(kv("k", 0, "on b"), kv("only-b", 0, "x"))
	if got := onA.get(""); len(got) != 1 || string(got[0].Value) != "on a" {
		t.Fatalf("get on a = %v; want only k = \"on a\"", got)
	}
	if keysB := etcdKeys(t, cli, prefixB+id+"/d/"); strings.Join(keysB, ",") != prefixB+id+"/d/k,"+prefixB+id+"/d/only-b" {
		t.Fatalf("keys under %q = %q; want k and only-b", prefixB, keysB)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// startEtcd starts a one-member etcd server on loopback ports for one test. With
// files, clients must connect over TLS with a certificate signed by files.CA.
func startEtcd(t *testing.T, files *testcerts.Files) string {
	t.Helper()
	var lastErr error
	for range 3 {
		endpoint, err := tryStartEtcd(t, files)
		if err == nil {
			return endpoint
		}
		lastErr = err
	}
	t.Fatalf("embedded etcd: %v", lastErr)
	return ""
}

func tryStartEtcd(t *testing.T, files *testcerts.Files) (string, error) {
	scheme := "http"
	if files != nil {
		scheme = "https"
	}
	clientURL := url.URL{Scheme: scheme, Host: freeAddr(t)}
	peerURL := url.URL{Scheme: "http", Host: freeAddr(t)}
	cfg := embed.NewConfig()
	cfg.Name = "lssd-test"
	cfg.Dir = t.TempDir()
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	if files != nil {
		cfg.ClientTLSInfo = transport.TLSInfo{
			CertFile:       files.ServerCert,
			KeyFile:        files.ServerKey,
			TrustedCAFile:  files.CA,
			ClientCertAuth: true,
		}
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", err
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return "", err
	case <-time.After(30 * time.Second):
		e.Close()
		return "", fmt.Errorf("not ready after 30s")
	}
	t.Cleanup(e.Close)
	return clientURL.String(), nil
}

// freeAddr is a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestEtcdOverMutualTLS(t *testing.T) {
	t.Parallel()
	files := testcerts.WriteFiles(t, t.TempDir())
	endpoint := startEtcd(t, &files)

	opts := etcdOptionsFor(t, endpoint)
	opts.EtcdCA, opts.EtcdCert, opts.EtcdKey = files.CA, files.ClientCert, files.ClientKey
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k", 0, "over tls"))
	wantKVs(t, "get over tls", c.get(""), kv("k", 0, "over tls"))

	// Without a client certificate the cluster refuses the connection.
	noCert := etcdOptionsFor(t, endpoint)
	noCert.EtcdCA = files.CA
	if _, err := Start(context.Background(), noCert); err == nil {
		t.Fatal("Start without a client certificate succeeded against a mutual-TLS cluster")
	}
}

func TestEtcdBadTLSFilesAreStartupErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := testcerts.WriteFiles(t, dir)
	notPEM := testcerts.WriteFile(t, dir, "not.pem", []byte("not a certificate"))
	missing := dir + "/missing-ca.crt"
	for _, tc := range []struct {
		name          string
		ca, cert, key string
		words         []string
	}{
		{"missing CA", missing, "", "", []string{"etcd CA", missing}},
		{"CA not PEM", notPEM, "", "", []string{"etcd CA", notPEM, "no PEM"}},
		{"cert without key", files.CA, files.ClientCert, "", []string{"--etcd-key"}},
		{"key without cert", files.CA, "", files.ClientKey, []string{"--etcd-cert"}},
		{"key not matching", files.CA, files.ClientCert, files.ServerKey, []string{files.ClientCert, files.ServerKey}},
	} {
		opts := etcdOptionsFor(t, "https://127.0.0.1:1")
		opts.EtcdCA, opts.EtcdCert, opts.EtcdKey = tc.ca, tc.cert, tc.key
		_, err := Start(context.Background(), opts)
		if err == nil {
			t.Fatalf("%s: Start succeeded", tc.name)
		}
		for _, w := range tc.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

func TestEtcdUserAndPassword(t *testing.T) {
	t.Parallel()
	endpoint := startEtcd(t, nil)
	root := newEtcdClient(t, clientv3.Config{Endpoints: []string{endpoint}})
	// etcd hashes each password with bcrypt, slow under the race detector on a busy
	// machine: the set-up gets a minute rather than the usual call deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, step := range []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.UserAdd(ctx, "lssd", "lssd-pw"); return err },
		func() error { _, err := root.RoleAdd(ctx, "lss"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "lss", "lss/", clientv3.GetPrefixRangeEnd("lss/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserGrantRole(ctx, "lssd", "lss"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("setting up etcd auth: %v", err)
		}
	}

	opts := etcdOptionsFor(t, endpoint)
	opts.EtcdUsername, opts.EtcdPassword = "lssd", "lssd-pw"
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k", 0, "as lssd"))
	wantKVs(t, "get as lssd", c.get(""), kv("k", 0, "as lssd"))

	// The user may write only under lss/: another prefix is refused at startup.
	outside := opts
	outside.DataDir, outside.EtcdPrefix = t.TempDir(), "other/"
	if _, err := Start(context.Background(), outside); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Start under a prefix the user may not write: %v; want permission denied", err)
	}
	wrong := etcdOptionsFor(t, endpoint)
	wrong.EtcdUsername, wrong.EtcdPassword = "lssd", "wrong"
	if _, err := Start(context.Background(), wrong); err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("Start with a wrong password: %v; want authentication failed", err)
	}
	anonymous := etcdOptionsFor(t, endpoint)
	if _, err := Start(context.Background(), anonymous); err == nil {
		t.Fatal("Start without credentials succeeded against a cluster with auth enabled")
	}
}

func TestEtcdUserAndPasswordGoTogether(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ user, password, want string }{
		{"lssd", "", "LSSD_ETCD_PASSWORD"},
		{"", "pw", "--etcd-username"},
	} {
		opts := etcdOptionsFor(t, "127.0.0.1:1")
		opts.EtcdUsername, opts.EtcdPassword = tc.user, tc.password
		_, err := Start(context.Background(), opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("user %q password %q: error %v; want one mentioning %s", tc.user, tc.password, err, tc.want)
		}
		if err != nil && tc.password != "" && strings.Contains(err.Error(), tc.password) {
			t.Errorf("error %q reveals the password", err)
		}
	}
}

// TestEtcdTransactionLimitsAreResourceExhausted: a request within lssd's limits
// but over the etcd cluster's limits on one transaction (here etcd's defaults:
// 128 operations, 1.5 MiB) is refused with RESOURCE_EXHAUSTED saying what to do,
// not as a storage failure, and writes nothing; smaller requests go through.
func TestEtcdTransactionLimitsAreResourceExhausted(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, etcdOptionsFor(t, startEtcd(t, nil)))
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k0000", 0, "before"))

	many := make([]*lsspb.KeyValue, 200)
	for i := range many {
		many[i] = kv(fmt.Sprintf("k%04d", i), 0, "v")
	}
	many[0] = kv("k0000", 1, "v")
	// Values of 1.7 MiB are over etcd's --max-request-bytes; those of 2 MiB are
	// over it by more than etcd's gRPC allowance, and refused by its gRPC server.
	values := func(n int) []*lsspb.KeyValue {
		v := strings.Repeat("v", n)
		return []*lsspb.KeyValue{kv("big1", 0, v), kv("big2", 0, v)}
	}
	for _, tc := range []struct {
		name string
		kvs  []*lsspb.KeyValue
	}{{"200 keys", many}, {"1.7 MiB of values", values(850 << 10)}, {"2 MiB of values", values(1 << 20)}} {
		_, err := c.rpc.Put(ctxT(t), c.putRequest(tc.kvs...))
		wantCode(t, "Put of "+tc.name, err, codes.ResourceExhausted, "Put", "--max-txn-ops", "fewer or smaller", "nothing was written")
		_, err = c.prepare(txid(t), tc.kvs...)
		wantCode(t, "Prepare of "+tc.name, err, codes.ResourceExhausted, "Prepare", "--max-txn-ops")
		_, err = c.rpc.Restore(ctxT(t), restoreRequest(c, tc.kvs...))
		wantCode(t, "Restore of "+tc.name, err, codes.ResourceExhausted, "Restore", "--max-txn-ops")
	}
	wantKVs(t, "nothing written", c.get(""), kv("k0000", 0, "before"))
	if txs := c.status(); len(txs) != 0 {
		t.Errorf("refused prepares left records: %v", txs)
	}
	c.mustPut(many[:50]...)
}
