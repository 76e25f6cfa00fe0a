package lssd

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/lssquorum/lss/proto/lsspb"
)

// healthService is grpc.health.v1 for the daemon: NOT_SERVING from registration
// until the daemon is ready, SERVING while it serves, NOT_SERVING again once it
// starts stopping. Both the server as a whole ("") and lss.LightningStorage are
// reported.
//
// grpc's health.Server keeps Watch streams open for ever, and a graceful stop
// waits for every open stream: one watching client would hold the stop until
// its timeout. So Watch streams end once they have sent NOT_SERVING after the
// stop began (or after watchDrain, whichever is first).
type healthService struct {
	*health.Server
	stopping chan struct{}
	once     sync.Once
}

// watchDrain bounds how long a Watch stream stays open after the stop began.
const watchDrain = time.Second

// healthServices are the names reported.
var healthServices = []string{"", lsspb.LightningStorage_ServiceDesc.ServiceName}

func newHealthService() *healthService {
	h := &healthService{Server: health.NewServer(), stopping: make(chan struct{})}
	for _, name := range healthServices {
		h.SetServingStatus(name, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	return h
}

func (h *healthService) register(gs *grpc.Server) { healthgrpc.RegisterHealthServer(gs, h) }

// serving marks the daemon ready.
func (h *healthService) serving() { h.setServing(true) }

// setServing reports SERVING or NOT_SERVING; once stop began it changes
// nothing (health.Server ignores changes after Shutdown).
func (h *healthService) setServing(serving bool) {
	status := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		status = healthpb.HealthCheckResponse_SERVING
	}
	for _, name := range healthServices {
		h.SetServingStatus(name, status)
	}
}

// stop reports NOT_SERVING for good and lets Watch streams end.
func (h *healthService) stop() {
	h.once.Do(func() {
		h.Shutdown()
		close(h.stopping)
	})
}

// Watch is health.Server's Watch on a stream that ends after the stop.
func (h *healthService) Watch(req *healthpb.HealthCheckRequest, stream healthgrpc.Health_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	w := &watchStream{Health_WatchServer: stream, ctx: ctx, sent: make(chan struct{}, 1)}
	go func() {
		select {
		case <-h.stopping:
		case <-ctx.Done():
			return
		}
		timer := time.NewTimer(watchDrain)
		defer timer.Stop()
		for !w.sentNotServing() {
			select {
			case <-w.sent:
			case <-timer.C:
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
		cancel()
	}()
	return h.Server.Watch(req, w)
}

// watchStream remembers the last status sent, and has its own context for Watch
// to end on.
type watchStream struct {
	healthgrpc.Health_WatchServer
	ctx  context.Context
	last atomic.Int32
	sent chan struct{} // a status was sent
}

func (w *watchStream) Context() context.Context { return w.ctx }

func (w *watchStream) Send(r *healthpb.HealthCheckResponse) error {
	err := w.Health_WatchServer.Send(r)
	if err == nil {
		w.last.Store(int32(r.GetStatus()))
		select {
		case w.sent <- struct{}{}:
		default:
		}
	}
	return err
}

// sentNotServing reports whether the watcher was last told anything but SERVING.
func (w *watchStream) sentNotServing() bool {
	st := healthpb.HealthCheckResponse_ServingStatus(w.last.Load())
	return st != healthpb.HealthCheckResponse_SERVING && st != healthpb.HealthCheckResponse_UNKNOWN
}
