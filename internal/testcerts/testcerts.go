// Package testcerts issues throwaway X.509 certificates for tests that run TLS
// over 127.0.0.1: a certificate authority, server certificates valid for
// 127.0.0.1 and localhost, and client certificates for mutual TLS. Keys are ECDSA
// P-256 and certificates are valid from an hour ago to an hour from now.
//
// It is for tests only: every function takes a testing.TB and fails the test on
// error, and nothing here is fit to secure a real deployment.
package testcerts

import (
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
	"testing"
	"time"
)

// CA is a throwaway certificate authority that signs server and client
// certificates.
type CA struct {
	// Cert is the authority's self-signed certificate.
	Cert *x509.Certificate
	// CertPEM is Cert PEM-encoded, as a trust file (a --tls-ca argument) holds it.
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// KeyPair is a PEM certificate and its PEM private key, as the files a server's
// or client's TLS options name.
type KeyPair struct {
	CertPEM, KeyPEM []byte
}

// NewCA returns a new certificate authority with a fresh key.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testcerts: create CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testcerts: parse CA certificate: %v", err)
	}
	return &CA{Cert: cert, CertPEM: encodePEM("CERTIFICATE", der), key: key}
}

// Pool returns a certificate pool trusting only this authority, for a client's
// RootCAs or a server's ClientCAs.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// IssueServer signs a server certificate valid for 127.0.0.1 and localhost.
func (ca *CA) IssueServer(t testing.TB) KeyPair {
	t.Helper()
	return ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "test server"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:    []string{"localhost"},
	})
}

// IssueClient signs a client certificate, for mutual TLS.
func (ca *CA) IssueClient(t testing.TB) KeyPair {
	t.Helper()
	return ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "test client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// issue completes tmpl with a serial number, validity and key usage, and signs
// it with a fresh key.
func (ca *CA) issue(t testing.TB, tmpl *x509.Certificate) KeyPair {
	t.Helper()
	key := newKey(t)
	tmpl.SerialNumber = serial(t)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("testcerts: sign %s certificate: %v", tmpl.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("testcerts: encode key: %v", err)
	}
	return KeyPair{CertPEM: encodePEM("CERTIFICATE", der), KeyPEM: encodePEM("EC PRIVATE KEY", keyDER)}
}

// TLSCertificate returns the pair as a tls.Certificate, to present in a
// tls.Config.
func (p KeyPair) TLSCertificate(t testing.TB) tls.Certificate {
	t.Helper()
	cert, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		t.Fatalf("testcerts: load key pair: %v", err)
	}
	return cert
}

// Write writes the pair to dir/name.crt and dir/name.key (mode 0600) and returns
// the two paths.
func (p KeyPair) Write(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	return WriteFile(t, dir, name+".crt", p.CertPEM), WriteFile(t, dir, name+".key", p.KeyPEM)
}

// Files are the paths of PEM files written by WriteFiles.
type Files struct {
	// CA is the authority's certificate, which signed the other two.
	CA string
	// ServerCert and ServerKey are a server certificate for 127.0.0.1 and localhost.
	ServerCert, ServerKey string
	// ClientCert and ClientKey are a client certificate for mutual TLS.
	ClientCert, ClientKey string
}

// WriteFiles creates a new CA, a server and a client certificate, and writes them
// to dir as ca.crt, server.crt, server.key, client.crt and client.key.
func WriteFiles(t testing.TB, dir string) Files {
	t.Helper()
	ca := NewCA(t)
	f := Files{CA: WriteFile(t, dir, "ca.crt", ca.CertPEM)}
	f.ServerCert, f.ServerKey = ca.IssueServer(t).Write(t, dir, "server")
	f.ClientCert, f.ClientKey = ca.IssueClient(t).Write(t, dir, "client")
	return f
}

// WriteFile writes data to dir/name with mode 0600 and returns the path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("testcerts: %v", err)
	}
	return path
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testcerts: generate key: %v", err)
	}
	return key
}

// serial is a random 128-bit serial number, so that certificates issued in the
// same test never share one.
func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatalf("testcerts: serial number: %v", err)
	}
	return n
}

func encodePEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
