package tlsfiles

import (
	"crypto/tls"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lssquorum/lss/internal/testcerts"
)

// handshake runs one TLS handshake over loopback between the two configurations
// and returns the client's error.
func handshake(t *testing.T, server, client *tls.Config) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.(*tls.Conn).Handshake()
		_, _ = io.Copy(io.Discard, c)
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), client)
	if err == nil {
		// TLS 1.3 reports a refused client certificate on the first read.
		_ = c.SetReadDeadline(deadline())
		_, err = c.Read(make([]byte, 1))
		if errors.Is(err, io.EOF) || isTimeout(err) {
			err = nil
		}
		c.Close()
	}
	ln.Close()
	<-done
	return err
}

func TestMutualTLSHandshake(t *testing.T) {
	f := testcerts.WriteFiles(t, t.TempDir())
	server, err := Server(Files{CA: f.CA, Cert: f.ServerCert, Key: f.ServerKey})
	if err != nil {
		t.Fatal(err)
	}
	if server.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("a server with a CA must require client certificates, got %v", server.ClientAuth)
	}
	client, err := Client(Files{CA: f.CA, Cert: f.ClientCert, Key: f.ClientKey}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, server, client); err != nil {
		t.Fatalf("mutual TLS handshake: %v", err)
	}
	anonymous, err := Client(Files{CA: f.CA}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, server, anonymous); err == nil {
		t.Fatal("a client without a certificate passed a server that requires one")
	}
	wrongName, err := Client(Files{CA: f.CA, Cert: f.ClientCert, Key: f.ClientKey}, "other.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, server, wrongName); err == nil {
		t.Fatal("a client verifying another server name accepted the certificate")
	}
}

func TestNoFilesIsPlaintext(t *testing.T) {
	cfg, err := Server(Files{})
	if cfg != nil || err != nil {
		t.Fatalf("Server(no files) = %v, %v; want nil, nil", cfg, err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	f := testcerts.WriteFiles(t, dir)
	notPEM := testcerts.WriteFile(t, dir, "not.pem", []byte("hello"))
	missing := filepath.Join(dir, "missing.pem")
	cases := []struct {
		name string
		run  func() error
		says string
	}{
		{"server cert without key", func() error { _, err := Server(Files{Cert: f.ServerCert}); return err }, "both a certificate and a key"},
		{"server CA only", func() error { _, err := Server(Files{CA: f.CA}); return err }, "both a certificate and a key"},
		{"client key without cert", func() error { _, err := Client(Files{Key: f.ClientKey}, ""); return err }, "both a certificate and a key"},
		{"missing CA", func() error { _, err := Client(Files{CA: missing}, ""); return err }, "missing.pem"},
		{"CA without a certificate", func() error { _, err := Client(Files{CA: notPEM}, ""); return err }, "holds no PEM certificate"},
		{"key of another pair", func() error {
			_, err := Server(Files{Cert: f.ServerCert, Key: f.ClientKey})
			return err
		}, "load TLS certificate"},
	}
	for _, c := range cases {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v; want one saying %q", c.name, err, c.says)
		}
	}
}
