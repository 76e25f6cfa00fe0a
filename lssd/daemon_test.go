package lssd

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/memory"
	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func startNoCleanup(opts Options) (*Daemon, error) { return Start(context.Background(), opts) }

// gatedBackend is a memory backend whose writes wait for a gate, so a test can hold
// a Put in flight.
type gatedBackend struct {
	*memory.Backend
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedBackend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	return g.Backend.Update(ctx, client, fn)
}

func TestGracefulStopFinishesInFlightPut(t *testing.T) {
	t.Parallel()
	gate := &gatedBackend{Backend: newMemory(t), entered: make(chan struct{}), release: make(chan struct{})}
	opts := testOptions(t)
	opts.Backend = gate
	d, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, dial(t, d.Addr()), d.ServerID())

	putDone := make(chan *lsspb.PutReply, 1)
	putErr := make(chan error, 1)
	go func() {
		reply, err := c.rpc.Put(ctxT(t), c.putRequest(kv("k", 0, "v")))
		putDone <- reply
		putErr <- err
	}()
	<-gate.entered

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- d.Stop(ctx)
	}()
	// Stop waits for the put in flight.
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned while a put was in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	// New connections are refused meanwhile.
	if conn, err := net.DialTimeout("tcp", d.Addr(), time.Second); err == nil {
		conn.Close()
		t.Error("listener still accepts connections during graceful stop")
	}
	close(gate.release)
	if reply, err := <-putDone, <-putErr; err != nil || !reply.Success {
		t.Fatalf("in-flight put: %v, %v; want success", reply, err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// The put reached the store, and the store is now closed.
	if err := gate.Backend.View(context.Background(), c.id, func(store.Reader) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("store not closed after Stop: %v", err)
	}
	if err := d.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStopDeadlineCancelsStuckCalls(t *testing.T) {
	t.Parallel()
	gate := &gatedBackend{Backend: newMemory(t), entered: make(chan struct{}), release: make(chan struct{})}
	opts := testOptions(t)
	opts.Backend = gate
	d, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	putErr := make(chan error, 1)
	go func() {
		_, err := c.rpc.Put(ctxT(t), c.putRequest(kv("k", 0, "v")))
		putErr <- err
	}()
	<-gate.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- d.Stop(ctx) }()
	// The client sees its call cut off once the deadline passes.
	select {
	case err := <-putErr:
		if status.Code(err) != codes.Unavailable && status.Code(err) != codes.Canceled {
			t.Errorf("stuck put: %v, want UNAVAILABLE or CANCELED", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stuck put not cut off after the stop deadline")
	}
	// The handler itself still finishes (the store must not close under it).
	close(gate.release)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
}

func TestKillStopsServing(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	c.mustPut(kv("k", 0, "v"))
	if err := d.Kill(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.rpc.Ping(ctx, &lsspb.PingRequest{}); err == nil {
		t.Error("killed daemon still answers")
	}
}

func TestUnknownDatabase(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Database = "mongo"
	d, err := Start(context.Background(), opts)
	if err == nil {
		d.Kill()
		t.Fatal("Start accepted an unknown database")
	}
	for _, w := range append([]string{"mongo"}, Databases...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestServeOnGivenListener(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t)
	opts.Listener = lis
	d := startDaemon(t, opts)
	if d.Addr() != lis.Addr().String() {
		t.Errorf("Addr = %s, want %s", d.Addr(), lis.Addr())
	}
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
}
