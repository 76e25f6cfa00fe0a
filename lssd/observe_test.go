package lssd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/memory"
	"github.com/lssquorum/lss/proto/lsspb"
)

// scrape fetches the daemon's metrics page.
func scrape(t *testing.T, d *Daemon) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, "http://"+d.MetricsAddr()+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %v\n%s", resp.Status, err, b)
	}
	return string(b)
}

// sample is the value of the series name{labels...} in a scrape (labels given as
// `k="v"`), or -1 if it is absent.
func sample(page, name string, labels ...string) float64 {
	for _, line := range strings.Split(page, "\n") {
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		if match {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return -1
			}
			return v
		}
	}
	return -1
}

func TestMetricsMove(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Database = "bolt"
	opts.MetricsAddr = "127.0.0.1:0"
	d := startDaemon(t, opts)
	if !strings.HasPrefix(d.MetricsAddr(), "127.0.0.1:") {
		t.Fatalf("metrics on %q", d.MetricsAddr())
	}
	put := []string{`grpc_method="Put"`, `grpc_code="OK"`}
	before := scrape(t, d)
	// Every method is listed from the start, at zero.
	if v := sample(before, "grpc_server_handled_total", put...); v != 0 {
		t.Fatalf("Put handled before any call = %v, want 0\n%s", v, before)
	}

	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("a", 0, "1"))
	c.put(kv("a", 0, "again")) // a conflict: "a" is at version 0
	if _, err := c.prepare(txid(t), kv("b", 0, "2")); err != nil {
		t.Fatal(err)
	}

	after := scrape(t, d)
	for _, want := range []struct {
		name   string
		labels []string
		value  float64
	}{
		{"grpc_server_handled_total", put, 2},
		{"grpc_server_handling_seconds_count", []string{`grpc_method="Put"`}, 2},
		{"grpc_server_handled_total", []string{`grpc_method="Prepare"`, `grpc_code="OK"`}, 1},
		{"lssd_conflicts_total", []string{`method="Put"`}, 1},
		{"lssd_cached_secrets", nil, 1},
		{"lssd_prepared_transactions", nil, 1},
		{"lssd_reservations", nil, 1},
		{"lssd_transaction_records", nil, 1},
		// Three writes, each its own commit (the refused Put commits nothing,
		// but still runs as a write transaction).
		{"lssd_group_commit_batch_size_count", nil, 3},
		{"lssd_group_commit_batch_size_sum", nil, 3},
		{"lssd_commit_duration_seconds_count", nil, 3},
	} {
		if got := sample(after, want.name, want.labels...); got != want.value {
			t.Errorf("%s%v = %v, want %v", want.name, want.labels, got, want.value)
		}
	}
	if size := sample(after, "lssd_database_size_bytes"); size <= 0 {
		t.Errorf("lssd_database_size_bytes = %v", size)
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", after)
	}
}

// failingBackend fails every write as a broken disk would.
type failingBackend struct{ *memory.Backend }

func (failingBackend) Update(context.Context, []byte, func(store.Txn) error) error {
	return errors.New("disk on fire")
}

func TestMetricsCountStorageErrors(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Backend = failingBackend{newMemory(t)}
	opts.MetricsAddr = "127.0.0.1:0"
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	_, err := c.rpc.Put(ctxT(t), c.putRequest(kv("a", 0, "1")))
	wantCode(t, "put on a failing disk", err, codes.Internal)
	page := scrape(t, d)
	if v := sample(page, "lssd_storage_errors_total", `op="update"`); v != 1 {
		t.Errorf("lssd_storage_errors_total{op=update} = %v, want 1", v)
	}
	if v := sample(page, "grpc_server_handled_total", `grpc_method="Put"`, `grpc_code="Internal"`); v != 1 {
		t.Errorf("Put handled with Internal = %v, want 1", v)
	}
	// Not the embedded database: no bolt gauges.
	if v := sample(page, "lssd_database_size_bytes"); v != -1 {
		t.Errorf("lssd_database_size_bytes = %v with a non-bolt backend, want absent", v)
	}
}

func TestMetricsOffByDefault(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, testOptions(t))
	if d.MetricsAddr() != "" {
		t.Fatalf("metrics served on %q without MetricsAddr", d.MetricsAddr())
	}
}

func TestMetricsAddr(t *testing.T) {
	for in, want := range map[string]string{
		"9100": "127.0.0.1:9100", ":9100": "127.0.0.1:9100", "0.0.0.0:9100": "0.0.0.0:9100", "[::1]:9": "[::1]:9",
	} {
		if got, err := MetricsAddr(in); err != nil || got != want {
			t.Errorf("MetricsAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "host", "host:port", ":99999"} {
		if got, err := MetricsAddr(bad); err == nil {
			t.Errorf("MetricsAddr(%q) = %q, want an error", bad, got)
		}
	}
}

func TestHealthServiceTransitions(t *testing.T) {
	h := newHealthService()
	ctx := context.Background()
	for _, step := range []struct {
		what string
		do   func()
		want healthpb.HealthCheckResponse_ServingStatus
	}{
		{"starting", func() {}, healthpb.HealthCheckResponse_NOT_SERVING},
		{"ready", h.serving, healthpb.HealthCheckResponse_SERVING},
		{"stopping", h.stop, healthpb.HealthCheckResponse_NOT_SERVING},
		{"ready after stop", h.serving, healthpb.HealthCheckResponse_NOT_SERVING},
	} {
		step.do()
		for _, name := range healthServices {
			resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
			if err != nil || resp.GetStatus() != step.want {
				t.Errorf("%s: Check(%q) = %v, %v; want %v", step.what, name, resp.GetStatus(), err, step.want)
			}
		}
	}
}

func TestHealthWatchSeesStopAndEnds(t *testing.T) {
	t.Parallel()
	gate := &gatedBackend{Backend: newMemory(t), entered: make(chan struct{}), release: make(chan struct{})}
	opts := testOptions(t)
	opts.Backend = gate
	d, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(d.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	watch, err := healthpb.NewHealthClient(conn).Watch(ctxT(t), &healthpb.HealthCheckRequest{Service: "lss.LightningStorage"})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first status %v, %v; want SERVING", resp.GetStatus(), err)
	}

	// Hold a Put in flight so the graceful stop lasts.
	c := newClient(t, lsspb.NewLightningStorageClient(conn), d.ServerID())
	go c.rpc.Put(ctxT(t), c.putRequest(kv("k", 0, "v")))
	<-gate.entered
	stopped := make(chan error, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		stopped <- d.Stop(ctx)
	}()
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("status while stopping %v, %v; want NOT_SERVING", resp.GetStatus(), err)
	}
	// Then the server ends the stream, so the watcher cannot hold the stop.
	if _, err := watch.Recv(); err == nil {
		t.Fatal("Watch stream still open after NOT_SERVING during the stop")
	}
	close(gate.release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("stop took %v: the Watch stream held it", took)
	}
}

func TestReflectionListsTheService(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, testOptions(t))
	conn, err := grpc.NewClient(d.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"lss.LightningStorage", "grpc.health.v1.Health"} {
		if !strings.Contains(got, want) {
			t.Errorf("reflection lists %q, missing %s", got, want)
		}
	}
	// And it describes the service from the embedded descriptor, no .proto needed.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "lss.LightningStorage"}}); err != nil {
		t.Fatal(err)
	}
	resp, err = stream.Recv()
	if err != nil || len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()) == 0 {
		t.Fatalf("descriptor of lss.LightningStorage: %v, %v", resp, err)
	}
	stream.CloseSend()
}
