package lssd

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/memory"
)

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
		_ = filepath.Join(opts.DataDir, "lss.db")
		return nil, fmt.Errorf("lssd: database bolt is not available in this build")
	}
	return nil, fmt.Errorf("lssd: unknown database %q; valid: %s", opts.Database, strings.Join(Databases, ", "))
}
