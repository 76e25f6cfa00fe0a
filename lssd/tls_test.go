package lssd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lssd test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by the CA, for a server on
// 127.0.0.1 or for a client.
func (ca *testCA) issue(t *testing.T, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "lssd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsDial connects trusting ca, presenting clientCert if given.
func tlsDial(t *testing.T, addr string, ca *testCA, clientCert *tls.Certificate) lsspb.LightningStorageClient {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if clientCert != nil {
		cfg.Certificates = []tls.Certificate{*clientCert}
	}
	return dial(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
}

// tlsDaemon starts a daemon with a server certificate from ca, and with mutual TLS
// under authority if it is not nil.
func tlsDaemon(t *testing.T, ca, authority *testCA) *Daemon {
	dir := t.TempDir()
	cert, key := ca.issue(t, true)
	opts := testOptions(t)
	opts.TLSCert = writeFile(t, dir, "server.crt", cert)
	opts.TLSKey = writeFile(t, dir, "server.key", key)
	if authority != nil {
		opts.TLSAuthority = writeFile(t, dir, "ca.crt", authority.pem)
	}
	return startDaemon(t, opts)
}

func TestTLS(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	d := tlsDaemon(t, ca, nil)

	c := newClient(t, tlsDial(t, d.Addr(), ca, nil), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
	wantKVs(t, "over TLS", c.get(""), kv("k", 0, "v"))

	plain := dial(t, d.Addr())
	_, err := plain.Ping(ctxT(t), &lsspb.PingRequest{})
	wantCode(t, "plaintext client to TLS server", err, codes.Unavailable)

	untrusting := tlsDial(t, d.Addr(), newTestCA(t), nil)
	_, err = untrusting.Ping(ctxT(t), &lsspb.PingRequest{})
	wantCode(t, "client not trusting the server's CA", err, codes.Unavailable)
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	d := tlsDaemon(t, ca, ca)

	certPEM, keyPEM := ca.issue(t, false)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, tlsDial(t, d.Addr(), ca, &cert), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
	wantKVs(t, "with a client certificate", c.get(""), kv("k", 0, "v"))

	noCert := tlsDial(t, d.Addr(), ca, nil)
	_, err = noCert.Ping(ctxT(t), &lsspb.PingRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("client without a certificate: %v, want UNAVAILABLE", err)
	}

	stranger := newTestCA(t)
	sPEM, sKey := stranger.issue(t, false)
	sCert, _ := tls.X509KeyPair(sPEM, sKey)
	foreign := tlsDial(t, d.Addr(), ca, &sCert)
	_, err = foreign.Ping(ctxT(t), &lsspb.PingRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("client with a certificate from another CA: %v, want UNAVAILABLE", err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	dir := t.TempDir()
	cert, key := ca.issue(t, true)
	certFile := writeFile(t, dir, "server.crt", cert)
	keyFile := writeFile(t, dir, "server.key", key)
	notPEM := writeFile(t, dir, "ca.txt", []byte("not a certificate"))
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
