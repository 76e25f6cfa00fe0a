package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteNew creates path holding data with mode perm, durably, and never replaces
// an existing file. If path exists, including when it appears while WriteNew runs,
// nothing is changed and the error satisfies errors.Is(err, fs.ErrExist).
func WriteNew(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	// Unlike rename, link refuses an existing name, so the check and the creation
	// are one atomic step in the file system.
	linkErr := os.Link(tmp, path)
	// Remove the temporary name before syncing the directory so that the sync
	// also makes its removal durable.
	removeErr := os.Remove(tmp)
	if linkErr != nil {
		return linkErr
	}
	if removeErr != nil && !errors.Is(removeErr, os.ErrNotExist) {
		return removeErr
	}
	return SyncDir(filepath.Dir(path))
}

// WriteReplace writes data to path with mode perm, durably, replacing any existing
// file atomically: after a crash path holds either its old content or data.
func WriteReplace(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs the directory dir, which makes the names created, renamed or
// removed in it durable; a file's own fsync does not cover its directory entry.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// writeTemp writes data with mode perm to a new temporary file next to path,
// fsyncs and closes it, and returns its name. On error no temporary file is left.
func writeTemp(path string, data []byte, perm os.FileMode) (name string, err error) {
	// A hidden name beside path: same file system (so link and rename work) and
	// out of the way of directory listings.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	// Chmod rather than a creation mode so that perm is exact, whatever the umask.
	if err := f.Chmod(perm); err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}
