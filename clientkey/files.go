package clientkey

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File names inside a client directory, as the Rust lss-cli names them.
const (
	ClientKeyFile = "client-key"
	ServerKeyFile = "server-pubkey"
)

// DefaultDirName is the client directory under the home directory.
const DefaultDirName = ".lss"

// Errors of this package; test with errors.Is.
var (
	// ErrNotInitialized: the file does not exist yet (run init). It wraps
	// fs.ErrNotExist.
	ErrNotInitialized = fmt.Errorf("not initialized (run init): %w", os.ErrNotExist)
	// ErrCorrupt: the file exists but does not hold a valid key.
	ErrCorrupt = errors.New("corrupt key file")
	// ErrServerKeyChanged: a server key is already pinned and the server now
	// presents another.
	ErrServerKeyChanged = errors.New("server public key differs from the pinned one")
)

// DefaultDir is ~/.lss, the Rust lss-cli's directory.
func DefaultDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("home directory: %w", err)
	}
	return filepath.Join(home, DefaultDirName), nil
}

// readFile reads path, mapping a missing file to ErrNotInitialized.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotInitialized)
	}
	return b, err
}

// createFile writes data to path only if path does not exist, durably and with
// mode 0600. It writes a temporary file in the same directory, fsyncs it, then
// hard-links it to path: unlike rename, link fails if path exists, so an
// existing file is never replaced. Finally the directory is fsynced so the new
// name survives a crash. It returns an error wrapping os.ErrExist if path exists.
func createFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
