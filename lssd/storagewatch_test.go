package lssd

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/lssquorum/lss/internal/cutproxy"
	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/lssd/store"
)

// outageBackend fails every read and write with store.ErrUnavailable while
// down is set, as a backend whose database server went away does.
type outageBackend struct {
	store.Backend
	down atomic.Bool
}

func (b *outageBackend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	if b.down.Load() {
		return fmt.Errorf("%w: database unreachable", store.ErrUnavailable)
	}
	return b.Backend.View(ctx, client, fn)
}

func (b *outageBackend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	if b.down.Load() {
		return fmt.Errorf("%w: database unreachable", store.ErrUnavailable)
	}
	return b.Backend.Update(ctx, client, fn)
}

// healthOf returns d's health check of both reported services (one after the
// other, so they may differ while the status changes).
func healthOf(t *testing.T, d *Daemon) []healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	conn, err := grpc.NewClient(d.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got []healthpb.HealthCheckResponse_ServingStatus
	for _, name := range healthServices {
		resp, err := healthpb.NewHealthClient(conn).Check(ctxT(t), &healthpb.HealthCheckRequest{Service: name})
		if err != nil {
			t.Fatalf("health check of %q: %v", name, err)
		}
		got = append(got, resp.GetStatus())
	}
	return got
}

// awaitHealth waits (bounded) until d reports want for the server and the
// service alike.
func awaitHealth(t *testing.T, d *Daemon, want healthpb.HealthCheckResponse_ServingStatus, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		got := healthOf(t, d)
		if got[0] == want && got[1] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health is %v after %v, want %v", got, bound, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// While the store's reads fail as a database that went away makes them, the
// daemon reports NOT_SERVING (and calls answer UNAVAILABLE); once the reads
// succeed again it reports SERVING, without a restart.
func TestHealthFollowsTheStore(t *testing.T) {
	t.Parallel()
	b := &outageBackend{Backend: newMemory(t)}
	opts := testOptions(t)
	opts.Backend = b
	opts.StorageCheckInterval = 20 * time.Millisecond
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
	awaitHealth(t, d, healthpb.HealthCheckResponse_SERVING, time.Second)

	b.down.Store(true)
	awaitHealth(t, d, healthpb.HealthCheckResponse_NOT_SERVING, 5*time.Second)
	_, err := c.rpc.Put(ctxT(t), c.putRequest(kv("k", 1, "w")))
	wantCode(t, "put while the database is away", err, codes.Unavailable)

	b.down.Store(false)
	awaitHealth(t, d, healthpb.HealthCheckResponse_SERVING, 5*time.Second)
	c.mustPut(kv("k", 1, "w"))
	wantKVs(t, "after the outage", c.get(""), kv("k", 1, "w"))
}

// The same with a real etcd cluster cut off and brought back (a proxy in
// front of it closes every connection and refuses new ones meanwhile).
func TestHealthFollowsEtcd(t *testing.T) {
	t.Parallel()
	endpoint, proxy := cutproxy.Through(t, testdb.EtcdEndpoints(t)[0])
	opts := etcdOptionsFor(t, endpoint)
	opts.EtcdPrefix = fmt.Sprintf("lssd-health-test-%d/", time.Now().UnixNano())
	opts.StorageCheckInterval = 100 * time.Millisecond
	d := startDaemon(t, opts)
	awaitHealth(t, d, healthpb.HealthCheckResponse_SERVING, 5*time.Second)

	proxy.Cut()
	awaitHealth(t, d, healthpb.HealthCheckResponse_NOT_SERVING, 15*time.Second)
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	awaitHealth(t, d, healthpb.HealthCheckResponse_SERVING, 15*time.Second)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
}
