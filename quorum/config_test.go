package quorum

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

func TestQuorumSizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, w, r      int
		wantW, wantR int
		err          string // substring naming the broken rule; empty for success
	}{
		{n: 1, wantW: 1, wantR: 1},
		{n: 2, wantW: 2, wantR: 2},
		{n: 3, wantW: 2, wantR: 2},
		{n: 4, wantW: 3, wantR: 3},
		{n: 5, wantW: 3, wantR: 3},
		{n: 3, w: 3, r: 1, wantW: 3, wantR: 1},
		{n: 3, w: 1, r: 3, wantW: 1, wantR: 3},
		{n: 3, w: 3, wantW: 3, wantR: 2},
		{n: 0, err: "no providers"},
		{n: 3, w: 4, err: "W=4 must be between 1 and N=3"},
		{n: 3, w: -1, err: "W=-1 must be between 1 and N=3"},
		{n: 3, r: 4, err: "R=4 must be between 1 and N=3"},
		{n: 3, r: -2, err: "R=-2 must be between 1 and N=3"},
		{n: 3, w: 1, r: 2, err: "W+R=3 must exceed N=3"},
		{n: 4, w: 2, r: 2, err: "W+R=4 must exceed N=4"},
		{n: 5, w: 1, err: "W+R=4 must exceed N=5"},
	}
	for _, tt := range tests {
		w, r, err := quorumSizes(tt.n, tt.w, tt.r)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrConfig) {
				t.Errorf("quorumSizes(%d, %d, %d) error = %v, want one saying %q", tt.n, tt.w, tt.r, err, tt.err)
			}
			continue
		}
		if err != nil || w != tt.wantW || r != tt.wantR {
			t.Errorf("quorumSizes(%d, %d, %d) = %d, %d, %v; want %d, %d", tt.n, tt.w, tt.r, w, r, err, tt.wantW, tt.wantR)
		}
	}
}

func TestProviderNames(t *testing.T) {
	t.Parallel()
	names, err := providerNames([]ProviderConfig{{Name: "a", Addr: "h:1"}, {Addr: "h:2"}})
	if err != nil || names[0] != "a" || names[1] != "h:2" {
		t.Errorf("names = %v, %v; want [a h:2]", names, err)
	}
	for _, tt := range []struct {
		ps  []ProviderConfig
		err string
	}{
		{[]ProviderConfig{{Name: "a"}}, `provider 1 ("a") has no address`},
		{[]ProviderConfig{{Name: "a", Addr: "h:1"}, {Name: "a", Addr: "h:2"}}, `providers 1 and 2 are both named "a"`},
		{[]ProviderConfig{{Addr: "h:1"}, {Name: "h:1", Addr: "h:2"}}, `providers 1 and 2 are both named "h:1"`},
	} {
		if _, err := providerNames(tt.ps); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("providerNames(%v) = %v, want error %q", tt.ps, err, tt.err)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	key, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	three := []ProviderConfig{{Addr: "127.0.0.1:1"}, {Addr: "127.0.0.1:2"}, {Addr: "127.0.0.1:3"}}
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"no key", Config{Providers: three}, "no client key"},
		{"no providers", Config{ClientKey: key}, "no providers"},
		{"quorums do not overlap", Config{Providers: three, ClientKey: key, W: 1, R: 1}, "W+R=2 must exceed N=3"},
		{"short HMAC secret", Config{Providers: three, ClientKey: key, HMACSecret: []byte("short")}, "HMAC secret is 5 bytes"},
		{"negative timeout", Config{Providers: three, ClientKey: key, Timeout: -1}, "negative timeout"},
		{"unknown mode", Config{Providers: three, ClientKey: key, Mode: Mode(7)}, "unknown mode"},
		{"bad pinned server_id", Config{Providers: []ProviderConfig{{Name: "p", Addr: "h:1", ServerID: []byte{2, 3}}}, ClientKey: key},
			"provider p: pinned server_id"},
	}
	for _, tt := range tests {
		c, err := New(context.Background(), tt.cfg)
		if err == nil {
			c.Close()
			t.Errorf("%s: New succeeded", tt.name)
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err = %v, want ErrConfig saying %q", tt.name, err, tt.err)
		}
	}
}

func TestNewDoesNotNeedProvidersUp(t *testing.T) {
	t.Parallel()
	key, _ := secp256k1.GeneratePrivateKey()
	c, err := New(context.Background(), Config{
		Providers: []ProviderConfig{{Addr: "127.0.0.1:1"}, {Addr: "127.0.0.1:2"}, {Addr: "127.0.0.1:3"}},
		ClientKey: key,
	})
	if err != nil {
		t.Fatalf("New with every provider down: %v", err)
	}
	if c.N() != 3 || c.W() != 2 || c.R() != 2 {
		t.Errorf("N, W, R = %d, %d, %d; want 3, 2, 2", c.N(), c.W(), c.R())
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := c.Get(context.Background(), ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}

func TestParseMode(t *testing.T) {
	t.Parallel()
	for _, m := range []Mode{ModeAuto, ModePlain, ModeAtomic} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMode("fast"); err == nil || !strings.Contains(err.Error(), `"fast"`) {
		t.Errorf("ParseMode(fast) = %v", err)
	}
}
