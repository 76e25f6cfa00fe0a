package qconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeSelfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeSelfSigned(t, dir)
	cfg := New(filepath.Join(dir, "config.json"))

	if tc, err := cfg.TLSConfig(Provider{Name: "p", Addr: "127.0.0.1:1"}); tc != nil || err != nil {
		t.Errorf("no tls section = %v, %v; want plaintext", tc, err)
	}
	// Relative paths resolve against the config's directory.
	tc, err := cfg.TLSConfig(Provider{Name: "p", Addr: "localhost:1", TLS: &TLSFiles{CA: "cert.pem", Cert: "cert.pem", Key: "key.pem"}})
	if err != nil {
		t.Fatal(err)
	}
	if tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.ServerName != "localhost" {
		t.Errorf("tls config = %+v", tc)
	}

	for name, files := range map[string]*TLSFiles{
		"missing ca":   {CA: "nope.pem"},
		"ca not pem":   {CA: "config.json"},
		"missing cert": {Cert: "nope.pem", Key: "key.pem"},
	} {
		if name == "ca not pem" {
			if err := os.WriteFile(cfg.Path(), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, err := cfg.TLSConfig(Provider{Name: "p", Addr: "localhost:1", TLS: files})
		if err == nil || !strings.Contains(err.Error(), `provider "p"`) {
			t.Errorf("%s: err = %v, want one naming the provider", name, err)
		}
	}
}
