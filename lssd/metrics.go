package lssd

import (
	"context"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
	"github.com/lssquorum/lss/proto/lsspb"
)

// metrics are one daemon's Prometheus metrics, in a registry of its own so that
// several daemons in one process (tests, testnet) do not collide. They are always
// collected (the cost is a few atomic adds per call) and served only when
// Options.MetricsAddr is set.
type metrics struct {
	reg  *prometheus.Registry
	grpc *grpcprom.ServerMetrics

	conflicts     *prometheus.CounterVec
	storageErrors *prometheus.CounterVec
	batchSize     prometheus.Histogram
	commitSeconds prometheus.Histogram
}

// rpcBuckets suit calls from a fraction of a millisecond (cached reads) to
// seconds (an fsync on a busy disk, a database server far away).
var rpcBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		// grpc_server_started_total, grpc_server_handled_total and
		// grpc_server_handling_seconds, by grpc_service, grpc_method and grpc_code.
		grpc: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(rpcBuckets))),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lssd_conflicts_total",
			Help: "Key-values refused by the version rule or held by another transaction's reservation, by method.",
		}, []string{"method"}),
		storageErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lssd_storage_errors_total",
			Help: "Database operations that failed for a reason other than the storage rules or the caller's context, by operation (update or view).",
		}, []string{"op"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lssd_group_commit_batch_size",
			Help:    "Writes carried by each commit of the embedded database (1 without group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lssd_commit_duration_seconds",
			Help:    "Time of each commit of the embedded database, its writes and its fsync.",
			Buckets: rpcBuckets,
		}),
	}
	m.reg.MustRegister(m.grpc, m.conflicts, m.storageErrors, m.batchSize, m.commitSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// onCommit is the embedded database's commit observer.
func (m *metrics) onCommit(updates int, took time.Duration) {
	m.batchSize.Observe(float64(updates))
	m.commitSeconds.Observe(took.Seconds())
}

// watchServer registers the gauges read from the running server on each scrape:
// cached secrets, and for the embedded database the open transactions,
// reservations and file size.
func (m *metrics) watchServer(srv *Server, b store.Backend) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lssd_cached_secrets",
		Help: "Client shared secrets held in the authentication cache.",
	}, func() float64 { return float64(srv.auth.cache.len()) }))
	if bb, ok := unwrapBackend(b).(*bolt.Backend); ok {
		m.reg.MustRegister(&boltCollector{b: bb})
	}
}

// countConflicts counts the refused key-values of a reply.
func (m *metrics) countConflicts(method string, resp any) {
	n := 0
	switch r := resp.(type) {
	case *lsspb.PutReply:
		n = len(r.GetConflicts()) + len(r.GetReservations())
	case *lsspb.TxReply:
		n = len(r.GetConflicts())
	case *lsspb.RestoreReply:
		n = len(r.GetKept())
	}
	if n > 0 {
		m.conflicts.WithLabelValues(method).Add(float64(n))
	}
}

// boltCollector reads bolt.Stats on each scrape, bounded so a slow scrape
// cannot pile up behind the database.
type boltCollector struct{ b *bolt.Backend }

var (
	preparedDesc = prometheus.NewDesc("lssd_prepared_transactions",
		"Transactions prepared and not yet committed or aborted (embedded database).", nil, nil)
	reservationsDesc = prometheus.NewDesc("lssd_reservations",
		"Keys held by prepared transactions (embedded database).", nil, nil)
	recordsDesc = prometheus.NewDesc("lssd_transaction_records",
		"Transaction records of every state, until pruned (embedded database).", nil, nil)
	dbBytesDesc = prometheus.NewDesc("lssd_database_size_bytes",
		"Size of the embedded database, as a backup copies it.", nil, nil)
)

func (c *boltCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- preparedDesc
	ch <- reservationsDesc
	ch <- recordsDesc
	ch <- dbBytesDesc
}

func (c *boltCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.b.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(dbBytesDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(preparedDesc, prometheus.GaugeValue, float64(st.Prepared))
	ch <- prometheus.MustNewConstMetric(reservationsDesc, prometheus.GaugeValue, float64(st.Reservations))
	ch <- prometheus.MustNewConstMetric(recordsDesc, prometheus.GaugeValue, float64(st.Records))
	ch <- prometheus.MustNewConstMetric(dbBytesDesc, prometheus.GaugeValue, float64(st.Bytes))
}

// errorCountingBackend counts a backend's storage errors: failures the storage rules
// do not explain (statusCode maps them to INTERNAL).
type errorCountingBackend struct {
	store.Backend
	errs *prometheus.CounterVec
}

func (c errorCountingBackend) Update(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	return c.count("update", c.Backend.Update(ctx, client, fn))
}

// UpdateLazy forwards a lazy update (store.LazyUpdater, the second phase of a
// commit) to the backend if it has one, so that wrapping the backend for metrics
// does not make every commit synced; otherwise it is a durable Update, which is
// stronger than needed.
func (c errorCountingBackend) UpdateLazy(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	if l, ok := c.Backend.(store.LazyUpdater); ok {
		return c.count("update", l.UpdateLazy(ctx, client, fn))
	}
	return c.count("update", c.Backend.Update(ctx, client, fn))
}

func (c errorCountingBackend) View(ctx context.Context, client []byte, fn func(store.Reader) error) error {
	return c.count("view", c.Backend.View(ctx, client, fn))
}

func (c errorCountingBackend) count(op string, err error) error {
	if err != nil && storageFailure(statusCode(err)) {
		c.errs.WithLabelValues(op).Inc()
	}
	return err
}

// unwrapBackend returns the backend under errorCountingBackend.
func unwrapBackend(b store.Backend) store.Backend {
	if c, ok := b.(errorCountingBackend); ok {
		return c.Backend
	}
	return b
}
