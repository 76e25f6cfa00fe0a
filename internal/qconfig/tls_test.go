package qconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lssquorum/lss/internal/testcerts"
)

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certs := testcerts.WriteFiles(t, dir)
	ca, cert, key := filepath.Base(certs.CA), filepath.Base(certs.ClientCert), filepath.Base(certs.ClientKey)
	cfg := New(filepath.Join(dir, "config.json"))

	if tc, err := cfg.TLSConfig(Provider{Name: "p", Addr: "127.0.0.1:1"}); tc != nil || err != nil {
		t.Errorf("no tls section = %v, %v; want plaintext", tc, err)
	}
	// Relative paths resolve against the config's directory.
	tc, err := cfg.TLSConfig(Provider{Name: "p", Addr: "localhost:1", TLS: &TLSFiles{CA: ca, Cert: cert, Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	if tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.ServerName != "localhost" {
		t.Errorf("tls config = %+v", tc)
	}
	// An https:// address verifies its host, not the whole URL.
	tc, err = cfg.TLSConfig(Provider{Name: "p", Addr: "https://lss.example:55551", TLS: &TLSFiles{CA: ca}})
	if err != nil {
		t.Fatal(err)
	}
	if tc.ServerName != "lss.example" {
		t.Errorf("https address: server name %q, want lss.example", tc.ServerName)
	}

	for name, files := range map[string]*TLSFiles{
		"missing ca":   {CA: "nope.pem"},
		"ca not pem":   {CA: "config.json"},
		"missing cert": {Cert: "nope.pem", Key: key},
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
