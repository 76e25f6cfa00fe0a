package quorumcli

import (
	"bytes"
	"context"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/internal/testcerts"
	"github.com/lssquorum/lss/lssd"
)

// TestMutualTLSProviders runs the commands against real lssd servers that
// require TLS with client certificates, configured through the "tls" section.
func TestMutualTLSProviders(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()

	// The configuration names its TLS files relative to its own directory, dir.
	ca := testcerts.NewCA(t)
	caFile := filepath.Base(testcerts.WriteFile(t, dir, "ca.crt", ca.CertPEM))
	clientCert, clientKey := ca.IssueClient(t).Write(t, dir, "client")
	clientCert, clientKey = filepath.Base(clientCert), filepath.Base(clientKey)

	cfg := qconfig.New(filepath.Join(dir, "config.json"))
	ids := map[string]string{}
	for _, name := range []string{"alice", "bob"} {
		opts := lssd.DefaultOptions()
		opts.Port, opts.DataDir = 0, filepath.Join(dir, name)
		opts.TLSCert, opts.TLSKey = ca.IssueServer(t).Write(t, dir, name)
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
	if out := main(ExitUsage, "get", "t"); !strings.Contains(out, `provider "bob": tls`) || !strings.Contains(out, "missing.crt") {
		t.Errorf("missing CA:\n%s", out)
	}
}
