package lssdcli

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/lssquorum/lss/internal/cmdmain"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/lssd/store/etcd"
	"github.com/spf13/cobra"
)

// config is what the flags fill in.
type config struct {
	opts            lssd.Options
	noGroupCommit   bool
	logLevel        string
	logFormat       string
	shutdownTimeout time.Duration
}

// newRootCommand is lssd: it serves, and holds the operator's subcommands.
func newRootCommand() *cobra.Command {
	cmd, _ := newRootCommandConfig()
	return cmd
}

// newRootCommandConfig returns the command and the configuration its flags fill
// in, so that the mapping from flags to options can be checked without a run.
func newRootCommandConfig() (*cobra.Command, *config) {
	cfg := &config{opts: lssd.DefaultOptions()}
	cfg.opts.DataDir = "~/.lss"
	cmd := &cobra.Command{
		Use:   "lssd",
		Short: "Lightning Storage Service server",
		Long:  "lssd stores Lightning signers' versioned key-values and serves them over the LSS gRPC protocol.",
		Args:  cmdmain.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fromEnv(cmd, &cfg.opts)
			return run(cmd.Context(), *cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	o := &cfg.opts
	f.StringVar(&o.Interface, "interface", o.Interface, "interface to listen on")
	f.IntVar(&o.Port, "port", o.Port, "port to listen on (0 picks a free one)")
	f.StringVar(&o.DataDir, "datadir", o.DataDir, "data directory: server key and database")
	f.StringVar(&o.Database, "database", o.Database, "database: "+strings.Join(lssd.Databases, ", ")+" (memory keeps nothing across a restart: for tests only)")
	f.StringVar(&o.PostgresURL, "postgres-url", "", "PostgreSQL URL for --database postgres (or env "+postgresURLEnv+")")
	f.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", nil, "comma-separated etcd client URLs for --database etcd (or env "+etcdEndpointsEnv+")")
	f.StringVar(&o.EtcdPrefix, "etcd-prefix", "", "key prefix for --database etcd, so several stores can share a cluster (default \""+etcd.DefaultPrefix+"\")")
	f.StringVar(&o.EtcdCA, "etcd-ca", "", "PEM CA certificate the etcd cluster's certificate must be signed by; enables TLS to etcd")
	f.StringVar(&o.EtcdCert, "etcd-cert", "", "PEM client certificate presented to etcd (mutual TLS); enables TLS to etcd")
	f.StringVar(&o.EtcdKey, "etcd-key", "", "PEM key of --etcd-cert")
	f.StringVar(&o.EtcdUsername, "etcd-username", "", "etcd user to authenticate as; the password comes from env "+etcdPasswordEnv+" only")
	f.StringVar(&o.TLSCert, "grpc-tls-certificate", "", "PEM server certificate; enables TLS")
	f.StringVar(&o.TLSKey, "grpc-tls-key", "", "PEM key of the server certificate")
	f.StringVar(&o.TLSAuthority, "grpc-tls-authority", "", "PEM CA certificate; clients must present a certificate it signed (mutual TLS)")
	f.IntVar(&o.Limits.MaxKeysPerPut, "max-keys-per-put", o.Limits.MaxKeysPerPut, "most key-values in one request")
	f.IntVar(&o.Limits.MaxKeyLength, "max-key-length", o.Limits.MaxKeyLength, "longest key, in bytes")
	f.IntVar(&o.Limits.MaxValueSize, "max-value-size", o.Limits.MaxValueSize, "largest value, in bytes")
	f.IntVar(&o.Limits.MaxMessageSize, "max-message-size", o.Limits.MaxMessageSize, "largest request message, in bytes")
	addLimitFlags(f, o)
	f.DurationVar(&o.Retention, "tx-retention", o.Retention, "how long decided transaction records are kept for recovery")
	f.DurationVar(&o.PruneInterval, "prune-interval", o.PruneInterval, "how often expired transaction records are deleted")
	f.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (off if empty; a bare PORT or :PORT means 127.0.0.1:PORT)")
	f.BoolVar(&o.BaseOnly, "base-only", false, "serve the base protocol only (extension RPCs answer UNIMPLEMENTED)")
	f.BoolVar(&cfg.noGroupCommit, "no-group-commit", false, "give every write its own fsync instead of sharing one among concurrent writes")
	f.StringVar(&cfg.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a graceful stop waits for in-flight calls")
	cmdmain.Setup(cmd)
	cmd.AddCommand(newBackupCommand())
	return cmd, cfg
}

// run starts the daemon and stops it gracefully when ctx ends (on SIGINT or
// SIGTERM, in the lssd binary).
func run(ctx context.Context, cfg config, logOut io.Writer) error {
	log, err := newLogger(logOut, cfg.logLevel, cfg.logFormat)
	if err != nil {
		return err
	}
	opts := cfg.opts
	opts.Logger = log
	opts.GroupCommit = !cfg.noGroupCommit
	if opts.DataDir, err = expandHome(opts.DataDir); err != nil {
		return err
	}
	d, err := lssd.Start(ctx, opts)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
	defer cancel()
	return d.Stop(sctx)
}
