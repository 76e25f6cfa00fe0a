package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/lssquorum/lss/internal/testcerts"
	"github.com/lssquorum/lss/lssd"
)

// startTLSServer runs lssd with TLS, requiring client certificates if mutual.
func startTLSServer(t *testing.T, certs testcerts.Files, mutual bool) *lssd.Daemon {
	t.Helper()
	opts := lssd.DefaultOptions()
	opts.Port = 0
	opts.DataDir = t.TempDir()
	opts.Database = "memory"
	opts.TLSCert, opts.TLSKey = certs.ServerCert, certs.ServerKey
	if mutual {
		opts.TLSAuthority = certs.CA
	}
	d, err := lssd.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Stop(ctx)
	})
	return d
}

func clientTLS(t *testing.T, certs testcerts.Files, withCert bool) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(certs.CA)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}
	cfg.RootCAs.AppendCertsFromPEM(pem)
	if withCert {
		cert, err := tls.LoadX509KeyPair(certs.ClientCert, certs.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

func TestTLS(t *testing.T) {
	t.Parallel()
	certs := testcerts.WriteFiles(t, t.TempDir())
	d := startTLSServer(t, certs, false)
	key := newKey(t)
	dial := func(addr string, cfg *tls.Config) (*Client, error) {
		return Dial(ctxT(t), Options{Addr: addr, Name: "p1", ServerID: d.ServerID(), ClientKey: key, TLS: cfg, DialTimeout: 2 * time.Second})
	}
	for _, addr := range []string{d.Addr(), "https://" + d.Addr()} {
		c, err := dial(addr, clientTLS(t, certs, false))
		if err != nil {
			t.Fatalf("Dial %s over TLS: %v", addr, err)
		}
		if err := c.Put(ctxT(t), []KV{{addr, 0, []byte("v")}}); err != nil {
			t.Errorf("Put over TLS: %v", err)
		}
		c.Close()
	}
	// Plaintext to a TLS server, and TLS without trusting its CA, both fail.
	if _, err := dial(d.Addr(), nil); err == nil {
		t.Error("plaintext Dial to a TLS server succeeded")
	}
	if _, err := dial("https://"+d.Addr(), nil); err == nil {
		t.Error("TLS Dial with the system roots trusted a throwaway CA")
	}
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	certs := testcerts.WriteFiles(t, t.TempDir())
	d := startTLSServer(t, certs, true)
	o := Options{Addr: d.Addr(), Name: "p1", ServerID: d.ServerID(), ClientKey: newKey(t), DialTimeout: 2 * time.Second}
	o.TLS = clientTLS(t, certs, true)
	c, err := Dial(ctxT(t), o)
	if err != nil {
		t.Fatalf("Dial with a client certificate: %v", err)
	}
	defer c.Close()
	if _, err := c.Get(ctxT(t), ""); err != nil {
		t.Errorf("Get over mutual TLS: %v", err)
	}
	o.TLS = clientTLS(t, certs, false)
	if _, err := Dial(ctxT(t), o); err == nil {
		t.Error("Dial without a client certificate to a mutual-TLS server succeeded")
	}
}
