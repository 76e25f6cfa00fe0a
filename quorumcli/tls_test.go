package quorumcli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/qconfig"
)

// pemFile writes a PEM block to dir/name and returns the name (relative to the
// configuration, which lives in dir).
func pemFile(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// issue signs a certificate for a server on 127.0.0.1, or for a client, and
// writes it and its key as name.crt and name.key.
func issue(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemFile(t, dir, name+".crt", "CERTIFICATE", der), pemFile(t, dir, name+".key", "EC PRIVATE KEY", kder)
}

// TestMutualTLSProviders runs the commands against real lssd servers that
// require TLS with client certificates, configured through the "tls" section.
func TestMutualTLSProviders(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	caFile := pemFile(t, dir, "ca.crt", "CERTIFICATE", caDER)
	clientCert, clientKey := issue(t, dir, "client", ca, caKey, false)

	cfg := qconfig.New(filepath.Join(dir, "config.json"))
	ids := map[string]string{}
	for _, name := range []string{"alice", "bob"} {
		cert, key := issue(t, dir, name, ca, caKey, true)
		opts := lssd.DefaultOptions()
		opts.Port, opts.DataDir = 0, filepath.Join(dir, name)
		opts.TLSCert, opts.TLSKey = filepath.Join(dir, cert), filepath.Join(dir, key)
		opts.TLSAuthority = filepath.Join(dir, caFile) // clients need a certificate from the CA
		d, err := lssd.Start(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Stop(context.Background()) })
		cfg.Providers = append(cfg.Providers, qconfig.Provider{
			Name: name, Addr: d.Addr(),
			TLS: &qconfig.TLSFiles{CA: caFile, Cert: clientCert, Key: clientKey},
		})
		ids[name] = hex.EncodeToString(d.ServerID())
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}

	main := func(wantCode int, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := Main(ctx, append([]string{"--config", cfg.Path(), "--verbose"}, args...), &stdout, &stderr)
		if code != wantCode {
			t.Fatalf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, stdout.String(), stderr.String())
		}
		return stdout.String() + stderr.String()
	}
	main(ExitOK, "init")
	pinned, err := qconfig.Load(cfg.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pinned.Providers {
		if p.ServerID != ids[p.Name] {
			t.Errorf("init over TLS pinned %s for %s, want %s", p.ServerID, p.Name, ids[p.Name])
		}
	}
	main(ExitOK, "put", "t", "0", "aa")
	if out := main(ExitOK, "get", "t"); !strings.Contains(out, "aa") {
		t.Errorf("get over TLS:\n%s", out)
	}
	main(ExitOK, "audit")

	// Without the client certificate, bob refuses the connection: bob is named.
	cfg2 := pinned
	cfg2.Providers[1].TLS = &qconfig.TLSFiles{CA: caFile}
	if err := cfg2.Save(); err != nil {
		t.Fatal(err)
	}
	out := main(ExitFailure, "get", "t")
	if !strings.Contains(out, "bob") || !strings.Contains(out, "unreachable") {
		t.Errorf("get without a client certificate for bob:\n%s", out)
	}
	// A missing CA file is a configuration error naming the provider.
	cfg2.Providers[1].TLS = &qconfig.TLSFiles{CA: "missing.crt", Cert: clientCert, Key: clientKey}
	if err := cfg2.Save(); err != nil {
		t.Fatal(err)
	}
	if out := main(ExitUsage, "get", "t"); !strings.Contains(out, `provider "bob": tls.ca`) {
		t.Errorf("missing CA:\n%s", out)
	}
}
