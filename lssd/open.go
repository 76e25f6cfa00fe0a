package lssd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
	"github.com/lssquorum/lss/lssd/store/memory"
)

// BoltFileName is the embedded database's file in the data directory.
const BoltFileName = "lss.db"

// Databases lists the values Options.Database accepts.
var Databases = []string{"bolt", "memory"}

// OpenStore opens the database named by opts.Database: "bolt" (the default, an
// embedded file <datadir>/lss.db) or "memory" (not durable; for tests). If
// opts.Backend is set, it is used instead.
func OpenStore(opts Options) (*store.Store, error) {
	sopts := store.Options{Retention: opts.Retention}
	if opts.Backend != nil {
		return store.New(opts.Backend, sopts), nil
	}
	switch opts.Database {
	case "memory":
		return store.New(memory.New(), sopts), nil
	case "", "bolt":
		if opts.DataDir == "" {
			return nil, fmt.Errorf("lssd: database bolt needs a data directory")
		}
		if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("lssd: create data directory: %w", err)
		}
		b, err := bolt.Open(filepath.Join(opts.DataDir, BoltFileName), bolt.Options{NoGroupCommit: !opts.GroupCommit})
		if err != nil {
			return nil, fmt.Errorf("lssd: open database: %w", err)
		}
		return store.New(b, sopts), nil
	}
	return nil, fmt.Errorf("lssd: unknown database %q; valid: %s", opts.Database, strings.Join(Databases, ", "))
}
