package lssd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsServer serves the daemon's metrics over HTTP at /metrics.
type metricsServer struct {
	srv  *http.Server
	lis  net.Listener
	done chan struct{}
}

// MetricsAddr turns the --metrics-addr value into a listening address: a bare
// port ("9100" or ":9100") means loopback (127.0.0.1:9100), so that turning
// metrics on never exposes them beyond the machine by accident; a host, when
// given, is used as it is.
func MetricsAddr(s string) (string, error) {
	if _, err := strconv.ParseUint(s, 10, 16); err == nil {
		return net.JoinHostPort("127.0.0.1", s), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("lssd: metrics address %q: want PORT, :PORT or HOST:PORT", s)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("lssd: metrics address %q: bad port %q", s, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// startMetrics listens on addr and serves m's registry.
func startMetrics(addr string, m *metrics, log *slog.Logger) (*metricsServer, error) {
	addr, err := MetricsAddr(addr)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lssd: metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	ms := &metricsServer{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)},
		lis:  lis,
		done: make(chan struct{}),
	}
	go func() {
		defer close(ms.done)
		if err := ms.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", lis.Addr().String(), "path", "/metrics")
	return ms, nil
}

// addr is where the metrics are served.
func (ms *metricsServer) addr() string { return ms.lis.Addr().String() }

// stop ends the metrics server, letting a scrape in progress finish until ctx is
// done.
func (ms *metricsServer) stop(ctx context.Context) {
	if err := ms.srv.Shutdown(ctx); err != nil {
		ms.srv.Close()
	}
	<-ms.done
}
