package provider

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/lssquorum/lss/proto/wire"
)

func TestDialChecksInfoAndPing(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, "http://"+d.Addr(), d.ServerID(), newKey(t), false)
	if !bytes.Equal(c.ServerID(), d.ServerID()) || c.Name() != "p1" {
		t.Errorf("ServerID %x Name %q, want %x p1", c.ServerID(), c.Name(), d.ServerID())
	}
	version, id, err := c.Info(ctxT(t))
	if err != nil || version == "" || !bytes.Equal(id, d.ServerID()) {
		t.Errorf("Info = %q %x %v", version, id, err)
	}
	got, err := c.Ping(ctxT(t), "hello")
	if err != nil || got != "hello" {
		t.Errorf("Ping = %q %v, want hello", got, err)
	}
}

func TestDialWithoutPinAcceptsServerID(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, d.Addr(), nil, newKey(t), false)
	if !bytes.Equal(c.ServerID(), d.ServerID()) {
		t.Errorf("ServerID = %x, want %x", c.ServerID(), d.ServerID())
	}
	if c.Name() != "p1" {
		t.Errorf("Name = %q", c.Name())
	}
}

func TestDialRefusesAnotherServerID(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	other := wire.PublicID(newKey(t))
	_, err := Dial(ctxT(t), Options{Addr: d.Addr(), Name: "p1", ServerID: other, ClientKey: newKey(t)})
	wantProviderError(t, err, "dial", ErrServerIDMismatch)
}

func TestDialNameDefaultsToAddr(t *testing.T) {
	t.Parallel()
	_, err := Dial(ctxT(t), Options{Addr: "127.0.0.1:1"})
	var pe *Error
	if !errors.As(err, &pe) || pe.Provider != "127.0.0.1:1" {
		t.Errorf("err = %v, want a *Error naming the address", err)
	}
}

func TestDialRefusesBadOptions(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	cases := map[string]Options{
		"no client key":     {Addr: "127.0.0.1:55551"},
		"no address":        {ClientKey: key},
		"no port":           {Addr: "127.0.0.1", ClientKey: key},
		"url without port":  {Addr: "http://127.0.0.1", ClientKey: key},
		"url with path":     {Addr: "http://127.0.0.1:55551/x", ClientKey: key},
		"short hmac secret": {Addr: "127.0.0.1:55551", ClientKey: key, HMACSecret: []byte("short")},
		"bad pinned id":     {Addr: "127.0.0.1:55551", ClientKey: key, ServerID: []byte{2, 3}},
		"http with TLS":     {Addr: "http://127.0.0.1:55551", ClientKey: key, TLS: &tls.Config{}},
		"ftp scheme":        {Addr: "ftp://127.0.0.1:55551", ClientKey: key},
	}
	for name, o := range cases {
		o.Name = "p1"
		_, err := Dial(ctxT(t), o)
		if err == nil {
			t.Errorf("%s: Dial succeeded", name)
			continue
		}
		wantProviderError(t, err, "dial", nil)
		if errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: bad options reported as unavailable: %v", name, err)
		}
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	start := time.Now()
	_, err = Dial(context.Background(), Options{Addr: addr, Name: "p1", ClientKey: newKey(t), DialTimeout: 500 * time.Millisecond})
	wantProviderError(t, err, "dial", ErrUnavailable)
	if time.Since(start) > 5*time.Second {
		t.Errorf("Dial took %v, want it bounded by DialTimeout", time.Since(start))
	}
}

func TestStoppedServerIsUnavailable(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, d.Addr(), d.ServerID(), newKey(t), false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	getCtx, cancelGet := context.WithTimeout(context.Background(), time.Second)
	defer cancelGet()
	_, err := c.Get(getCtx, "")
	wantProviderError(t, err, "get", ErrUnavailable)
}
