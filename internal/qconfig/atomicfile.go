package qconfig

import (
	"os"
	"path/filepath"

	"github.com/lssquorum/lss/internal/durable"
)

// writeFileAtomic replaces the file at path with data, mode 0600, so that a crash
// leaves either the old content or the new one. Missing parent directories are
// created (mode 0700, since they hold key material).
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return durable.WriteReplace(path, data, 0o600)
}
