package lssd

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lssquorum/lss/internal/testcerts"
	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// tlsDial connects trusting ca, presenting clientCert if given.
func tlsDial(t *testing.T, addr string, ca *testcerts.CA, clientCert *tls.Certificate) lsspb.LightningStorageClient {
	cfg := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	if clientCert != nil {
		cfg.Certificates = []tls.Certificate{*clientCert}
	}
	return dial(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
}

// tlsDaemon starts a daemon with a server certificate from ca, and with mutual TLS
// under authority if it is not nil.
func tlsDaemon(t *testing.T, ca, authority *testcerts.CA) *Daemon {
	dir := t.TempDir()
	opts := testOptions(t)
	opts.TLSCert, opts.TLSKey = ca.IssueServer(t).Write(t, dir, "server")
	if authority != nil {
		opts.TLSAuthority = testcerts.WriteFile(t, dir, "ca.crt", authority.CertPEM)
	}
	return startDaemon(t, opts)
}

func TestTLS(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA(t)
	d := tlsDaemon(t, ca, nil)

	c := newClient(t, tlsDial(t, d.Addr(), ca, nil), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
	wantKVs(t, "over TLS", c.get(""), kv("k", 0, "v"))

	plain := dial(t, d.Addr())
	_, err := plain.Ping(ctxT(t), &lsspb.PingRequest{})
	wantCode(t, "plaintext client to TLS server", err, codes.Unavailable)

	untrusting := tlsDial(t, d.Addr(), testcerts.NewCA(t), nil)
	_, err = untrusting.Ping(ctxT(t), &lsspb.PingRequest{})
	wantCode(t, "client not trusting the server's CA", err, codes.Unavailable)
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA(t)
	d := tlsDaemon(t, ca, ca)

	cert := ca.IssueClient(t).TLSCertificate(t)
	c := newClient(t, tlsDial(t, d.Addr(), ca, &cert), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
	wantKVs(t, "with a client certificate", c.get(""), kv("k", 0, "v"))

	noCert := tlsDial(t, d.Addr(), ca, nil)
	_, err := noCert.Ping(ctxT(t), &lsspb.PingRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("client without a certificate: %v, want UNAVAILABLE", err)
	}

	stranger := testcerts.NewCA(t)
	sCert := stranger.IssueClient(t).TLSCertificate(t)
	foreign := tlsDial(t, d.Addr(), ca, &sCert)
	_, err = foreign.Ping(ctxT(t), &lsspb.PingRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("client with a certificate from another CA: %v, want UNAVAILABLE", err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	t.Parallel()
	ca := testcerts.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.IssueServer(t).Write(t, dir, "server")
	notPEM := testcerts.WriteFile(t, dir, "ca.txt", []byte("not a certificate"))
	cases := []struct {
		name             string
		cert, key, authz string
		words            string
	}{
		{"certificate without key", certFile, "", "", "both a certificate and a key"},
		{"authority without certificate", "", "", certFile, "both a certificate and a key"},
		{"key file is a certificate", certFile, certFile, "", "load TLS certificate"},
		{"missing certificate file", filepath.Join(dir, "nope"), keyFile, "", "nope"},
		{"authority not PEM", certFile, keyFile, notPEM, "no PEM certificate"},
	}
	for _, tc := range cases {
		opts := testOptions(t)
		opts.TLSCert, opts.TLSKey, opts.TLSAuthority = tc.cert, tc.key, tc.authz
		d, err := Start(context.Background(), opts)
		if err == nil {
			d.Kill()
			t.Errorf("%s: Start succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.words)
		}
	}
}
