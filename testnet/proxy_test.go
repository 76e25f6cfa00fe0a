package testnet

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// echoServer accepts on loopback and echoes every byte back, until closed.
type echoServer struct {
	ln net.Listener
	wg sync.WaitGroup
	mu sync.Mutex
	cs []net.Conn
}

func newEchoServer(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.cs = append(e.cs, c)
			e.mu.Unlock()
			e.wg.Add(1)
			go func() { defer e.wg.Done(); _, _ = io.Copy(c, c) }()
		}
	}()
	t.Cleanup(e.close)
	return e
}

func (e *echoServer) addr() string { return e.ln.Addr().String() }

func (e *echoServer) close() {
	e.ln.Close()
	e.mu.Lock()
	for _, c := range e.cs {
		c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

func newTestProxy(t *testing.T, backend string) *proxy {
	t.Helper()
	p, err := newProxy(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p.setBackend(backend)
	t.Cleanup(func() { p.close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads the echo, failing the test if it does not come
// back intact within timeout.
func roundTrip(t *testing.T, c net.Conn, msg []byte, timeout time.Duration) {
	t.Helper()
	if err := echo(c, msg, timeout); err != nil {
		t.Fatalf("round trip of %d bytes: %v", len(msg), err)
	}
}

func echo(c net.Conn, msg []byte, timeout time.Duration) error {
	c.SetDeadline(time.Now().Add(timeout))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return errors.New("echo differs from what was sent")
	}
	return nil
}

// expectClosed asserts that c's peer closes or resets it within timeout.
func expectClosed(t *testing.T, c net.Conn, timeout time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(timeout))
	_, err := c.Read(make([]byte, 1))
	if err == nil {
		t.Fatal("read succeeded on a connection that should be closed")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %v", timeout)
	}
}

// expectRefused asserts that a connection to addr is refused, reset or closed
// within timeout: the dial itself may already see the reset.
func expectRefused(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return
	}
	defer c.Close()
	expectClosed(t, c, timeout)
}

// expectSilent asserts that nothing arrives on c for d and that it stays open.
func expectSilent(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	n, err := c.Read(make([]byte, 1))
	if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want silence for %v, got %d bytes, err %v", d, n, err)
	}
}

func TestProxyForwardsBothWays(t *testing.T) {
	t.Parallel()
	e := newEchoServer(t)
	p := newTestProxy(t, e.addr())
	c := dial(t, p.addr())
	// Larger than a chunk and than the queue, so that chunking and back-pressure
	// both have to keep the bytes in order.
	big := make([]byte, 3*chunkSize*queueChunks+123)
	for i := range big {
		big[i] = byte(i * 7)
	}
	roundTrip(t, c, []byte("hello"), 5*time.Second)
	roundTrip(t, c, big, 10*time.Second)
}

func TestProxyLatencyDelaysEachDirection(t *testing.T) {
	t.Parallel()
	e := newEchoServer(t)
	p := newTestProxy(t, e.addr())
	c := dial(t, p.addr())
	roundTrip(t, c, []byte("warm"), 5*time.Second)

	const d = 40 * time.Millisecond
	p.setLatency(d)
	start := time.Now()
	roundTrip(t, c, []byte("slow"), 5*time.Second)
	// Request and reply each wait d.
	if took := time.Since(start); took < 2*d {
		t.Fatalf("round trip took %v with latency %v each way, want at least %v", took, d, 2*d)
	}

	p.setLatency(0)
	roundTrip(t, c, []byte("fast again"), 5*time.Second)
}

func TestProxyBackendDownResetsAtOnce(t *testing.T) {
	t.Parallel()
	p := newTestProxy(t, "")
	expectRefused(t, p.addr(), time.Second)

	// A backend address where nothing listens: the dial is refused, and so is
	// the client.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	p.setBackend(dead)
	expectRefused(t, p.addr(), time.Second)

	e := newEchoServer(t)
	p.setBackend(e.addr())
	roundTrip(t, dial(t, p.addr()), []byte("up"), 5*time.Second)
}

func TestProxyFollowsBackendMove(t *testing.T) {
	t.Parallel()
	e1, e2 := newEchoServer(t), newEchoServer(t)
	p := newTestProxy(t, e1.addr())
	roundTrip(t, dial(t, p.addr()), []byte("one"), 5*time.Second)
	e1.close()
	p.setBackend(e2.addr())
	roundTrip(t, dial(t, p.addr()), []byte("two"), 5*time.Second)
}

func TestProxyCutAndHeal(t *testing.T) {
	t.Parallel()
	e := newEchoServer(t)
	p := newTestProxy(t, e.addr())
	old := dial(t, p.addr())
	roundTrip(t, old, []byte("before"), 5*time.Second)

	p.setCut()
	expectClosed(t, old, time.Second)
	expectRefused(t, p.addr(), time.Second)

	p.heal()
	roundTrip(t, dial(t, p.addr()), []byte("after"), 5*time.Second)
}

func TestProxyBlackholeHoldsThenResumes(t *testing.T) {
	t.Parallel()
	e := newEchoServer(t)
	p := newTestProxy(t, e.addr())
	old := dial(t, p.addr())
	roundTrip(t, old, []byte("before"), 5*time.Second)

	p.blackhole()
	// An existing connection: its bytes go nowhere, yet it stays open.
	if _, err := old.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	expectSilent(t, old, 100*time.Millisecond)
	// A new connection is accepted but gets no answer either.
	fresh := dial(t, p.addr())
	if _, err := fresh.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	expectSilent(t, fresh, 100*time.Millisecond)

	p.heal()
	// Nothing was lost: both streams deliver what they held, in order.
	for _, tc := range []struct {
		c    net.Conn
		want string
	}{{old, "held"}, {fresh, "new"}} {
		tc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, len(tc.want))
		if _, err := io.ReadFull(tc.c, got); err != nil || string(got) != tc.want {
			t.Fatalf("after heal got %q, %v; want %q", got, err, tc.want)
		}
	}
	roundTrip(t, old, []byte("after"), 5*time.Second)
}

func TestProxyCloseEndsEverything(t *testing.T) {
	e := newEchoServer(t)
	before := countGoroutines()
	p, err := newProxy(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p.setBackend(e.addr())
	p.setLatency(time.Millisecond)
	var conns []net.Conn
	for range 5 {
		c := dial(t, p.addr())
		roundTrip(t, c, []byte("x"), 5*time.Second)
		conns = append(conns, c)
	}
	p.blackhole()
	held := dial(t, p.addr())
	if _, err := held.Write([]byte("stuck")); err != nil {
		t.Fatal(err)
	}

	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if err := p.close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	for _, c := range append(conns, held) {
		expectClosed(t, c, time.Second)
	}
	if _, err := net.DialTimeout("tcp", p.addr(), time.Second); err == nil {
		t.Fatal("proxy still accepts after close")
	}
	waitGoroutines(t, before)
}
