package testcerts

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// handshake runs a TLS handshake over 127.0.0.1 between a server using server
// and a client using client, and returns the client's and the server's errors.
func handshake(t *testing.T, server, client *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	deadline := time.Now().Add(10 * time.Second)
	_ = tcp.SetDeadline(deadline) // Accept gives up if the client never connects
	ln := tls.NewListener(tcp, server)
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(deadline)
		served <- conn.(*tls.Conn).Handshake()
	}()
	dialer := &net.Dialer{Deadline: deadline}
	conn, clientErr := tls.DialWithDialer(dialer, "tcp", ln.Addr().String(), client)
	if clientErr == nil {
		// TLS 1.3 reports a rejected client certificate only on the first read;
		// after an accepted handshake the server just closes (EOF).
		_ = conn.SetDeadline(deadline)
		if _, clientErr = conn.Read(make([]byte, 1)); errors.Is(clientErr, io.EOF) {
			clientErr = nil
		}
		conn.Close()
	}
	return clientErr, <-served
}

func TestMutualTLSHandshake(t *testing.T) {
	t.Parallel()
	ca := NewCA(t)
	server := &tls.Config{
		Certificates: []tls.Certificate{ca.IssueServer(t).TLSCertificate(t)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
	}
	client := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{ca.IssueClient(t).TLSCertificate(t)}}
	if cerr, serr := handshake(t, server, client); cerr != nil || serr != nil {
		t.Errorf("handshake with certificates from one CA: client %v, server %v", cerr, serr)
	}

	other := NewCA(t)
	stranger := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{other.IssueClient(t).TLSCertificate(t)}}
	if _, serr := handshake(t, server, stranger); serr == nil {
		t.Error("server accepted a client certificate from another CA")
	}
	untrusting := &tls.Config{RootCAs: other.Pool(), Certificates: client.Certificates}
	if cerr, _ := handshake(t, server, untrusting); cerr == nil {
		t.Error("client trusting another CA accepted the server")
	}
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	f := WriteFiles(t, t.TempDir())
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s holds no PEM certificate", f.CA)
	}
	for _, c := range []struct {
		cert, key string
		opts      x509.VerifyOptions
	}{
		{f.ServerCert, f.ServerKey, x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"}},
		{f.ServerCert, f.ServerKey, x509.VerifyOptions{Roots: roots, DNSName: "localhost"}},
		{f.ClientCert, f.ClientKey, x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}},
	} {
		pair, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pair.Leaf.Verify(c.opts); err != nil {
			t.Errorf("%s does not verify for %+v: %v", c.cert, c.opts, err)
		}
		fi, err := os.Stat(c.key)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", c.key, fi.Mode().Perm())
		}
	}
}
