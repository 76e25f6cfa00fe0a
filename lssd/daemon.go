package lssd

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
	"github.com/lssquorum/lss/proto/lsspb"
	"go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/reflection"
)

// DefaultPort is the LSS protocol's port.
const DefaultPort = 55551

// Options configure a Daemon.
type Options struct {
	// Interface and Port to listen on (Port 0 picks a free port).
	Interface string
	Port      int
	// DataDir holds the server key and, for bolt and pebble, the database. It may be empty only
	// with the memory database, which then runs under a fresh, unsaved key.
	DataDir string
	// Database names the store: "bolt" (default), "pebble", "postgres", "etcd" or "memory";
	// see OpenStore.
	Database string
	// PostgresURL is the database of "postgres" (a postgres:// URL).
	PostgresURL string
	// EtcdEndpoints are the cluster members' client URLs for "etcd".
	EtcdEndpoints []string
	// EtcdPrefix keeps the store's keys under this prefix in "etcd", so that several
	// stores can share one cluster; etcd.DefaultPrefix if empty.
	EtcdPrefix string
	// EtcdCA, EtcdCert and EtcdKey are PEM files for reaching "etcd" over TLS. Any of
	// them turns TLS on: EtcdCA is the authority the cluster's certificate must be
	// signed by (the system roots if empty); EtcdCert and EtcdKey, given together,
	// are the client certificate presented for mutual TLS.
	EtcdCA, EtcdCert, EtcdKey string
	// EtcdUsername and EtcdPassword, given together, authenticate to "etcd" as an
	// etcd user.
	EtcdUsername, EtcdPassword string
	// EtcdDialTimeout bounds connecting (and authenticating) to "etcd" at start;
	// etcd's DefaultDialTimeout if zero.
	EtcdDialTimeout time.Duration
	// Backend, if set, is used instead of opening Database (for tests that need to
	// observe or slow down storage). The Daemon closes it on stop.
	Backend store.Backend
	// TLS files: a certificate and key enable TLS; an authority additionally
	// requires and verifies client certificates (mutual TLS).
	TLSCert, TLSKey, TLSAuthority string
	// Limits bound each request; zero fields take their defaults.
	Limits Limits
	// BaseOnly serves the base protocol alone: extension RPCs answer UNIMPLEMENTED.
	BaseOnly bool
	// Listener, if set, is served instead of listening on Interface:Port. The
	// Daemon closes it on stop.
	Listener net.Listener
	// Logger receives structured logs; nothing is logged if nil.
	Logger *slog.Logger
	// GroupCommit lets bolt commit concurrent writes with one
	// fsync. DefaultOptions turns it on.
	GroupCommit bool
	// Retention of decided transaction records; store.DefaultRetention if zero.
	Retention time.Duration
	// Quota bounds each client's keys, bytes and pending transactions; zero
	// fields are unlimited.
	Quota store.Quota
	// PruneInterval between deletions of expired records; DefaultPruneInterval if
	// zero.
	PruneInterval time.Duration
	// StorageCheckInterval between the reads that check the store answers,
	// for the health service (storagewatch.go); DefaultStorageCheckInterval if
	// zero.
	StorageCheckInterval time.Duration
	// AllowInsecureKeyFile starts the server even if its key file is readable or
	// writable by group or others (it then logs a warning); otherwise that is a
	// startup error.
	AllowInsecureKeyFile bool
	// MetricsAddr, if set, serves Prometheus metrics at http://MetricsAddr/metrics;
	// a bare port means loopback (see MetricsAddr).
	MetricsAddr string
}

// DefaultOptions returns the defaults of cmd/lssd, except DataDir, which the
// caller chooses.
func DefaultOptions() Options {
	return Options{
		Interface:     "127.0.0.1",
		Port:          DefaultPort,
		Database:      "bolt",
		Limits:        DefaultLimits(),
		GroupCommit:   true,
		Retention:     store.DefaultRetention,
		Quota:         DefaultQuota(),
		PruneInterval: DefaultPruneInterval,
	}
}

// Daemon is a running lssd: a store, the gRPC server over it, and the pruner.
type Daemon struct {
	id       []byte
	log      *slog.Logger
	lis      net.Listener
	grpc     *grpc.Server
	store    *store.Store
	pruner   *pruner
	watch    *storageWatch
	health   *healthService
	metrics  *metricsServer // nil unless Options.MetricsAddr
	backup   *backupServer  // nil unless the embedded database
	served   chan struct{}
	serveErr error

	stopOnce sync.Once
	stopErr  error
}

// Start opens the server key and the store, listens, and serves in the
// background until Stop or Kill. If it fails, it closes opts.Listener too.
func Start(ctx context.Context, opts Options) (*Daemon, error) {
	d, err := start(ctx, opts)
	if err != nil && opts.Listener != nil {
		opts.Listener.Close()
	}
	return d, err
}

func start(ctx context.Context, opts Options) (*Daemon, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := opts.Limits.validate(); err != nil {
		return nil, err
	}
	if err := opts.Quota.Validate(); err != nil {
		return nil, fmt.Errorf("lssd: %w", err)
	}
	limits := opts.Limits.withDefaults()
	if err := checkLimitsFit(databaseName(opts), opts.Backend, limits); err != nil {
		return nil, err
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = DefaultPruneInterval
	}
	if opts.StorageCheckInterval <= 0 {
		opts.StorageCheckInterval = DefaultStorageCheckInterval
	}
	creds, err := serverTLS(opts.TLSCert, opts.TLSKey, opts.TLSAuthority)
	if err != nil {
		return nil, err
	}
	key, err := serverKey(opts, log)
	if err != nil {
		return nil, err
	}
	lis := opts.Listener
	if lis == nil {
		lis, err = net.Listen("tcp", net.JoinHostPort(opts.Interface, strconv.Itoa(opts.Port)))
		if err != nil {
			return nil, fmt.Errorf("lssd: listen: %w", err)
		}
	}
	m := newMetrics()
	backend, err := openBackend(opts, m.onCommit)
	if err != nil {
		if opts.Listener == nil {
			lis.Close()
		}
		return nil, err
	}
	warnUnservedDatabases(opts, log)
	if creds == nil && !isLoopback(lis.Addr()) {
		log.Warn("serving plaintext on a non-loopback interface: tokens and data cross the network in the clear; "+
			"anyone who sees a client's token can read its data and, through the base Get, forge its base Puts "+
			"(use --grpc-tls-certificate and --grpc-tls-key)", "addr", lis.Addr().String())
	}
	backend = errorCountingBackend{Backend: backend, errs: m.storageErrors}
	st := store.New(backend, storeOptions(opts))

	pr := newPruner(st, opts.PruneInterval, log)
	srv := NewServer(st, key, ServerConfig{Limits: limits, Logger: log, OnTxClient: pr.note})
	var service lsspb.LightningStorageServer = srv
	if opts.BaseOnly {
		service = BaseOnly(srv)
	}
	unary, stream := interceptors(log, m)
	codec := newStrictCodec()
	// First: a request that did not decode must reach nothing else; then the
	// in-flight budget gives back what a decoded call does not need; last: the
	// new-client limiter, so refused clients are still counted and logged.
	gopts, inflight := serverLimitOptions(limits)
	unaryChain := append([]grpc.UnaryServerInterceptor{codec.interceptor(), inflight}, unary...)
	unaryChain = append(unaryChain, newNewClientLimiter(srv.auth, limits.NewClientsPerSecond, limits.NewClientsBurst).interceptor())
	gopts = append(gopts,
		grpc.ForceServerCodecV2(codec),
		grpc.ChainUnaryInterceptor(unaryChain...),
		grpc.ChainStreamInterceptor(stream...),
		// Stop must not return while a handler still uses the store it then closes.
		grpc.WaitForHandlers(true),
		// Serve calls on long-lived goroutines (a new one only when they are all
		// busy) rather than one new goroutine per call, whose stack then grows
		// again through the interceptors, the handler and the store.
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
	)
	if creds != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(creds)))
	}
	gs := grpc.NewServer(gopts...)
	lsspb.RegisterLightningStorageServer(gs, service)
	lis = newLimitListener(lis, limits.MaxConnections, log)
	hs := newHealthService()
	hs.register(gs)
	reflection.Register(gs)
	m.grpc.InitializeMetrics(gs)
	m.watchServer(srv, backend)

	watch := &storageWatch{store: st, health: hs, interval: opts.StorageCheckInterval, log: log}
	d := &Daemon{id: srv.ServerID(), log: log, lis: lis, grpc: gs, store: st, pruner: pr, watch: watch, health: hs, served: make(chan struct{})}
	if opts.MetricsAddr != "" {
		if d.metrics, err = startMetrics(opts.MetricsAddr, m, log); err != nil {
			gs.Stop()
			st.Close()
			if opts.Listener == nil {
				lis.Close()
			}
			return nil, err
		}
	}
	if bb, ok := unwrapBackend(backend).(*bolt.Backend); ok && opts.DataDir != "" {
		if d.backup, err = startBackupServer(opts.DataDir, bb, log); err != nil {
			log.Warn("online backups are off; `lssd backup` works only while the server is stopped", "err", err)
		}
	}
	go func() {
		defer close(d.served)
		if err := gs.Serve(lis); err != nil {
			d.serveErr = err
			log.Error("serving stopped", "err", err)
		}
	}()
	pr.start()
	hs.serving()
	watch.start()
	log.Info("lssd listening", "addr", d.Addr(), "server_id", hex.EncodeToString(d.id),
		"database", databaseName(opts), "tls", creds != nil, "mutual_tls", creds != nil && creds.ClientAuth == tls.RequireAndVerifyClientCert,
		"base_only", opts.BaseOnly)
	return d, nil
}

// serverKey loads the key from the data directory; with a non-durable store and no
// data directory it makes a throwaway key. A key file others may access is refused
// unless opts.AllowInsecureKeyFile.
func serverKey(opts Options, log *slog.Logger) (*secp256k1.PrivateKey, error) {
	if opts.DataDir == "" && (opts.Database == "memory" || opts.Backend != nil) {
		return secp256k1.GeneratePrivateKey()
	}
	key, err := LoadOrCreateKey(opts.DataDir)
	if err != nil {
		return nil, err
	}
	if err := checkKeyFileMode(filepath.Join(opts.DataDir, KeyFileName), opts.AllowInsecureKeyFile, log); err != nil {
		return nil, err
	}
	return key, nil
}

// unservedDatabases names the embedded databases in opts.DataDir that
// opts.Database does not serve: "bolt" for an lss.db file, "pebble" for a
// pebble directory.
func unservedDatabases(opts Options) []string {
	if opts.DataDir == "" || opts.Backend != nil {
		return nil
	}
	var out []string
	for _, db := range []struct{ name, file string }{{"bolt", BoltFileName}, {"pebble", PebbleDirName}} {
		if databaseName(opts) == db.name {
			continue
		}
		if _, err := os.Stat(filepath.Join(opts.DataDir, db.file)); err == nil {
			out = append(out, db.name)
		}
	}
	return out
}

// warnUnservedDatabases warns when the data directory holds an embedded
// database this server does not serve: a --database flag changed by mistake
// serves an empty store under the same server_id, which every client then
// sees as a provider that lost what it confirmed. Not refused: starting over
// on another database (repair then fills it) is a way to move.
func warnUnservedDatabases(opts Options, log *slog.Logger) {
	for _, db := range unservedDatabases(opts) {
		log.Warn("the data directory holds a "+db+" database this server does not serve: clients will find it without that data (rolled back); start with --database "+db+" to serve it",
			"datadir", opts.DataDir, "database", databaseName(opts))
	}
}

// isLoopback reports whether addr is a loopback address (an unspecified address,
// which listens on every interface, is not).
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return true // not a network socket (a pipe in tests)
	}
	return tcp.IP.IsLoopback()
}

// maxBoltKeyLength is the longest key the embedded database stores: bolt's key
// limit less the one-byte tag its layout puts in front of every key.
const maxBoltKeyLength = bbolt.MaxKeySize - 1

// checkLimitsFit refuses a key-length limit the database cannot honour, so that a
// long key is refused as INVALID_ARGUMENT at the door rather than failing inside
// the store.
func checkLimitsFit(database string, backend store.Backend, l Limits) error {
	if backend == nil && database == "bolt" && l.MaxKeyLength > maxBoltKeyLength {
		return fmt.Errorf("lssd: max key length %d is over the %d bytes the bolt database can store", l.MaxKeyLength, maxBoltKeyLength)
	}
	return nil
}

func databaseName(opts Options) string {
	if opts.Database == "" {
		return "bolt"
	}
	return opts.Database
}

// Addr is the host:port the daemon listens on.
func (d *Daemon) Addr() string { return d.lis.Addr().String() }

// MetricsAddr is the host:port of the metrics endpoint, or "" when
// Options.MetricsAddr was not set.
func (d *Daemon) MetricsAddr() string {
	if d.metrics == nil {
		return ""
	}
	return d.metrics.addr()
}

// ServerID is the daemon's 33-byte compressed public key.
func (d *Daemon) ServerID() []byte { return append([]byte(nil), d.id...) }

// Stop shuts down gracefully: it stops accepting connections and lets in-flight
// RPCs finish until ctx is done, then cancels whatever is left; finally it closes
// the store. Stopping a stopped daemon returns the first result again.
func (d *Daemon) Stop(ctx context.Context) error {
	d.stopOnce.Do(func() {
		// Health checkers learn first, while calls in flight finish.
		d.health.stop()
		graceful := make(chan struct{})
		go func() {
			d.grpc.GracefulStop()
			close(graceful)
		}()
		select {
		case <-graceful:
		case <-ctx.Done():
			d.log.Warn("graceful stop timed out; cancelling in-flight calls")
			d.grpc.Stop()
			<-graceful
		}
		d.stopErr = d.shutdown(ctx)
		d.log.Info("lssd stopped", "addr", d.Addr())
	})
	return d.stopErr
}

// Kill stops abruptly, as a crash would: connections are closed and in-flight calls
// cancelled at once. Only what the store already made durable remains.
func (d *Daemon) Kill() error {
	d.stopOnce.Do(func() {
		d.health.stop()
		d.grpc.Stop()
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // no grace
		d.stopErr = d.shutdown(ctx)
		d.log.Info("lssd killed", "addr", d.Addr())
	})
	return d.stopErr
}

// shutdown runs once the gRPC server has stopped and every handler returned.
func (d *Daemon) shutdown(ctx context.Context) error {
	d.pruner.stop()
	d.watch.stop()
	if d.metrics != nil {
		d.metrics.stop(ctx)
	}
	if d.backup != nil {
		d.backup.stop(ctx)
	}
	<-d.served
	var errs []error
	if d.serveErr != nil && !errors.Is(d.serveErr, grpc.ErrServerStopped) {
		errs = append(errs, fmt.Errorf("lssd: serve: %w", d.serveErr))
	}
	if err := d.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("lssd: close store: %w", err))
	}
	return errors.Join(errs...)
}
