package testdb

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// EtcdEndpointsEnv names an existing etcd cluster (comma-separated client URLs) to
// test against instead of starting one.
const EtcdEndpointsEnv = "LSSD_TEST_ETCD_ENDPOINTS"

// Limits of the embedded test server, raised above etcd's defaults (128 operations,
// 1.5 MiB) so the conformance suite's large puts fit in one transaction. Operators
// set the same with etcd's --max-txn-ops and --max-request-bytes.
const (
	EtcdMaxTxnOps       = 4096
	EtcdMaxRequestBytes = 16 << 20
)

const etcdStartTimeout = 60 * time.Second

var (
	etcdOnce      sync.Once
	etcdEndpoints []string
	etcdErr       error
)

// EtcdEndpoints returns the client endpoints of the test etcd server, starting an
// embedded one on first use. Tests sharing it should keep to their own key prefix
// or client ids. It skips t (fails it under CI) if no server can be had.
func EtcdEndpoints(t testing.TB) []string {
	t.Helper()
	etcdOnce.Do(func() {
		if e := os.Getenv(EtcdEndpointsEnv); e != "" {
			etcdEndpoints = strings.Split(e, ",")
			return
		}
		var errs []error
		for range 3 {
			endpoint, stop, err := startEtcd()
			if err == nil {
				etcdEndpoints = []string{endpoint}
				onExit(stop)
				return
			}
			errs = append(errs, err)
		}
		etcdErr = errors.Join(errs...)
	})
	if etcdErr != nil {
		unavailable(t, "etcd", etcdErr, "set "+EtcdEndpointsEnv+" or fix the embedded server's error")
	}
	return etcdEndpoints
}

// startEtcd starts a one-member etcd server in this process on loopback ports, with
// its data in a temporary directory removed when it stops. It returns the client
// endpoint and the function that stops the server.
func startEtcd() (endpoint string, stop func(), err error) {
	clientPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "lssd-test-etcd-")
	if err != nil {
		return "", nil, err
	}
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg := embed.NewConfig()
	cfg.Name = "lssd-test"
	cfg.Dir = dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.MaxTxnOps = EtcdMaxTxnOps
	cfg.MaxRequestBytes = EtcdMaxRequestBytes
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("starting embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(etcdStartTimeout):
		e.Close()
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("embedded etcd not ready after %v", etcdStartTimeout)
	}
	stop = func() {
		e.Close()
		_ = os.RemoveAll(dir)
	}
	return clientURL.String(), stop, nil
}
