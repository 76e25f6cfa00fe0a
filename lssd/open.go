package lssd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
	"github.com/lssquorum/lss/lssd/store/etcd"
	"github.com/lssquorum/lss/lssd/store/memory"
	"github.com/lssquorum/lss/lssd/store/pebble"
	"github.com/lssquorum/lss/lssd/store/postgres"
)

// BoltFileName is the embedded database's file in the data directory.
const BoltFileName = "lss.db"

// PebbleDirName is the Pebble database's directory in the data directory.
const PebbleDirName = "pebble"

// Databases lists the values Options.Database accepts.
var Databases = []string{"bolt", "pebble", "postgres", "etcd", "memory"}

// DatabaseOpenTimeout bounds connecting to a database server (postgres, etcd) and
// creating or checking its schema at startup.
const DatabaseOpenTimeout = 30 * time.Second

// OpenStore opens the database named by opts.Database: "bolt" (the default, an
// embedded file <datadir>/lss.db), "pebble" (an embedded Pebble database in
// <datadir>/pebble, which writes commits without an fsync), "postgres" (opts.PostgresURL), "etcd"
// (opts.EtcdEndpoints) or "memory" (not durable; for tests). If opts.Backend is
// set, it is used instead. Several lssd processes may share one postgres or etcd
// database: each update is a serializable transaction there.
func OpenStore(opts Options) (*store.Store, error) {
	b, err := openBackend(opts, nil)
	if err != nil {
		return nil, err
	}
	return store.New(b, storeOptions(opts)), nil
}

func storeOptions(opts Options) store.Options {
	return store.Options{Retention: opts.Retention, Quota: opts.Quota}
}

// openBackend opens the backend OpenStore describes; onCommit, if set, observes
// the embedded database's commits.
func openBackend(opts Options, onCommit func(int, time.Duration)) (store.Backend, error) {
	if opts.Backend != nil {
		return opts.Backend, nil
	}
	switch opts.Database {
	case "memory":
		return memory.Open(context.Background(), memory.Options{})
	case "", "bolt":
		if opts.DataDir == "" {
			return nil, fmt.Errorf("lssd: database bolt needs a data directory")
		}
		if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("lssd: create data directory: %w", err)
		}
		b, err := bolt.Open(context.Background(), bolt.Options{Path: filepath.Join(opts.DataDir, BoltFileName), NoGroupCommit: !opts.GroupCommit, OnCommit: onCommit})
		if err != nil {
			return nil, fmt.Errorf("lssd: open database: %w", err)
		}
		return b, nil
	case "pebble":
		if opts.DataDir == "" {
			return nil, fmt.Errorf("lssd: database pebble needs a data directory")
		}
		if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("lssd: create data directory: %w", err)
		}
		b, err := pebble.Open(context.Background(), pebble.Options{Dir: filepath.Join(opts.DataDir, PebbleDirName)})
		if err != nil {
			return nil, fmt.Errorf("lssd: open database: %w", err)
		}
		return b, nil
	case "postgres":
		if opts.PostgresURL == "" {
			return nil, fmt.Errorf("lssd: database postgres needs a URL (--postgres-url or LSSD_POSTGRES_URL)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), DatabaseOpenTimeout)
		defer cancel()
		b, err := postgres.Open(ctx, postgres.Options{URL: opts.PostgresURL})
		if err != nil {
			return nil, fmt.Errorf("lssd: open database: %w", err)
		}
		return b, nil
	case "etcd":
		if len(opts.EtcdEndpoints) == 0 {
			return nil, fmt.Errorf("lssd: database etcd needs endpoints (--etcd-endpoints or LSSD_ETCD_ENDPOINTS)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), DatabaseOpenTimeout)
		defer cancel()
		eopts, err := etcdOptions(opts)
		if err != nil {
			return nil, err
		}
		b, err := etcd.Open(ctx, eopts)
		if err != nil {
			return nil, fmt.Errorf("lssd: open database: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("lssd: unknown database %q; valid: %s", opts.Database, strings.Join(Databases, ", "))
}
