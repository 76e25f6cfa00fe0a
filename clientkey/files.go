package clientkey

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lssquorum/lss/internal/durable"
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

// createFile writes data to path, mode 0600, only if path does not exist, creating
// the directory (mode 0700) if needed. The write is durable and never replaces an
// existing file; if path exists the error wraps os.ErrExist.
func createFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return durable.WriteNew(path, data, 0o600)
}
