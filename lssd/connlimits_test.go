package lssd

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/memory"
	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

// countingBackend is a memory backend whose writes wait for release, counting how
// many are inside at once.
type countingBackend struct {
	*memory.Backend
	release chan struct{}
	inside  atomic.Int32
	peak    atomic.Int32
}

func (b *countingBackend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	n := b.inside.Add(1)
	defer b.inside.Add(-1)
	for {
		p := b.peak.Load()
		if n <= p || b.peak.CompareAndSwap(p, n) {
			break
		}
	}
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.Backend.Update(ctx, client, fn)
}

// concurrentPuts sends n Puts of distinct keys at once, each through conn(i), while
// the backend holds every write; it waits until the backend has seen want of them
// inside, checks no more ever enter, then lets all finish and requires success.
func concurrentPuts(t *testing.T, b *countingBackend, c *client, n int, conn func(i int) lsspb.LightningStorageClient, want int32) {
	t.Helper()
	concurrentPutsOfSize(t, b, c, n, 1, conn, want)
}

func concurrentPutsOfSize(t *testing.T, b *countingBackend, c *client, n, size int, conn func(i int) lsspb.LightningStorageClient, want int32) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			kvs := []*lsspb.KeyValue{kv(fmt.Sprintf("k%02d", i), 0, strings.Repeat("v", size))}
			r, err := conn(i).Put(ctxT(t), c.putRequest(kvs...))
			if err != nil || !r.GetSuccess() {
				t.Errorf("put %d: %v %v", i, r, err)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.inside.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // time for any call over the limit to get in
	if got := b.peak.Load(); got != want {
		t.Errorf("%d puts in the backend at once, want exactly %d", got, want)
	}
	close(b.release)
	wg.Wait()
}

func TestMaxConcurrentStreamsHolds(t *testing.T) {
	t.Parallel()
	b := &countingBackend{Backend: newMemory(t), release: make(chan struct{})}
	opts := testOptions(t)
	opts.Backend = b
	opts.Limits.MaxConcurrentStreams = 3
	d := startDaemon(t, opts)
	rpc := dial(t, d.Addr())
	c := newClient(t, rpc, d.ServerID())
	c.get("") // authenticate once, outside the count
	concurrentPuts(t, b, c, 10, func(int) lsspb.LightningStorageClient { return rpc }, 3)
}

// inflightDaemon has an in-flight budget of four 64 KiB messages and a backend
// that holds every write.
func inflightDaemon(t *testing.T) (*countingBackend, *client, []lsspb.LightningStorageClient) {
	b := &countingBackend{Backend: newMemory(t), release: make(chan struct{})}
	opts := testOptions(t)
	opts.Backend = b
	opts.Limits.MaxMessageSize = 64 << 10
	opts.Limits.MaxValueSize = 64 << 10
	opts.Limits.MaxInflightBytes = 4 * (64 << 10)
	d := startDaemon(t, opts)
	conns := make([]lsspb.LightningStorageClient, 8)
	for i := range conns {
		conns[i] = dial(t, d.Addr())
	}
	c := newClient(t, conns[0], d.ServerID())
	c.get("")
	return b, c, conns
}

// Requests near the message size keep their whole reservation: four fit in a
// budget of four messages, however many connections send them.
func TestInflightBytesHolds(t *testing.T) {
	t.Parallel()
	b, c, conns := inflightDaemon(t)
	concurrentPutsOfSize(t, b, c, len(conns), 60<<10, func(i int) lsspb.LightningStorageClient { return conns[i] }, 4)
}

// Small requests give back what they reserved for reading once decoded, so the
// budget does not limit how many are handled at once.
func TestInflightBudgetKeepsSmallCallsConcurrent(t *testing.T) {
	t.Parallel()
	b, c, conns := inflightDaemon(t)
	concurrentPutsOfSize(t, b, c, len(conns), 10, func(i int) lsspb.LightningStorageClient { return conns[i] }, int32(len(conns)))
}

func TestInflightBudgetBelowOneMessageRefused(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxMessageSize = 1 << 20
	opts.Limits.MaxInflightBytes = 1 << 19
	if d, err := startNoCleanup(opts); err == nil {
		d.Kill()
		t.Fatal("Start accepted an in-flight budget smaller than one message")
	}
}

// closedWithin reports whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == io.EOF {
			return true
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return false
			}
			return true // reset
		}
	}
}

func TestConnectionLimitHolds(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxConnections = 2
	d := startDaemon(t, opts)
	var open []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", d.Addr())
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, conn)
	}
	over, err := net.Dial("tcp", d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	if !closedWithin(over, 2*time.Second) {
		t.Error("a third connection over a limit of 2 was left open")
	}
	if closedWithin(open[0], 300*time.Millisecond) {
		t.Error("a connection within the limit was closed")
	}
	// A slot freed is a slot a new client can use.
	open[1].Close()
	open[0].Close()
	time.Sleep(100 * time.Millisecond)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
}

func TestSilentConnectionClosedAfterHandshakeTimeout(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.HandshakeTimeout = 300 * time.Millisecond
	d := startDaemon(t, opts)
	conns := make([]net.Conn, 20)
	for i := range conns {
		conn, err := net.Dial("tcp", d.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns[i] = conn
	}
	for i, conn := range conns {
		if !closedWithin(conn, 3*time.Second) {
			t.Fatalf("silent connection %d still open 3s after a 300ms handshake timeout", i)
		}
	}
}

func TestIdleConnectionClosed(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.IdleTimeout = 300 * time.Millisecond
	d := startDaemon(t, opts)
	conn, err := grpc.NewClient(d.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newClient(t, lsspb.NewLightningStorageClient(conn), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The server's GOAWAY after the idle time sends the client back to idle.
	for s := conn.GetState(); s != connectivity.Idle; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatalf("connection still %v 5s after a 300ms idle timeout", s)
		}
	}
	// And it reconnects transparently.
	wantKVs(t, "after reconnecting", c.get(""), kv("k", 0, "v"))
}
