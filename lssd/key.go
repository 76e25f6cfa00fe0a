package lssd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/internal/durable"
)

// KeyFileName is the server key's file in the data directory.
const KeyFileName = "server_key"

// LoadOrCreateKey returns the server's secp256k1 key from <datadir>/server_key,
// creating it (and datadir, mode 0700) on first start. The file holds the 32-byte
// private key as hex (as written here) or raw bytes, mode 0600.
//
// A key is never replaced: a new key would change every client's shared secret and
// so lock every client out of its data. A file that exists but cannot be read or
// does not hold a valid key is an error, and the file is left as it is.
func LoadOrCreateKey(datadir string) (*secp256k1.PrivateKey, error) {
	if datadir == "" {
		return nil, errors.New("lssd: no data directory given for the server key")
	}
	if err := os.MkdirAll(datadir, 0o700); err != nil {
		return nil, fmt.Errorf("lssd: create data directory: %w", err)
	}
	path := filepath.Join(datadir, KeyFileName)
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, err = secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("lssd: generate server key: %w", err)
	}
	switch err := writeKeyOnce(path, key); {
	case errors.Is(err, fs.ErrExist):
		// Another process created the key between our read and our write; theirs wins.
		return readKey(path)
	case err != nil:
		return nil, err
	}
	return key, nil
}

// readKey reads a key file. A missing file is reported with fs.ErrNotExist.
func readKey(path string) (*secp256k1.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("lssd: read server key %s: %w", path, err)
	}
	key, err := parseKey(b)
	if err != nil {
		return nil, fmt.Errorf("lssd: server key %s is corrupt (%v); refusing to start rather than replace it, "+
			"since a new key would lock every client out", path, err)
	}
	return key, nil
}

// parseKey accepts 32 raw bytes, or 64 hex digits with surrounding whitespace.
func parseKey(b []byte) (*secp256k1.PrivateKey, error) {
	raw := b
	if len(b) != secp256k1.PrivKeyBytesLen {
		trimmed := bytes.TrimSpace(b)
		if len(trimmed) != 2*secp256k1.PrivKeyBytesLen {
			return nil, fmt.Errorf("%d bytes, want 32 raw bytes or 64 hex digits", len(b))
		}
		raw = make([]byte, secp256k1.PrivKeyBytesLen)
		if _, err := hex.Decode(raw, trimmed); err != nil {
			return nil, fmt.Errorf("not hex: %v", err)
		}
	}
	var scalar secp256k1.ModNScalar
	if overflow := scalar.SetByteSlice(raw); overflow || scalar.IsZero() {
		return nil, errors.New("not a valid secp256k1 private key (zero or not below the curve order)")
	}
	return secp256k1.NewPrivateKey(&scalar), nil
}

// writeKeyOnce durably writes key to path as hex, mode 0600, without ever replacing
// an existing file: if path appeared meanwhile the error wraps fs.ErrExist.
func writeKeyOnce(path string, key *secp256k1.PrivateKey) error {
	data := []byte(hex.EncodeToString(key.Serialize()) + "\n")
	if err := durable.WriteNew(path, data, 0o600); err != nil {
		return fmt.Errorf("lssd: write server key %s: %w", path, err)
	}
	return nil
}

// checkKeyFileMode refuses a server key file that group or others may read or
// write, as ssh does for private keys: anyone who reads it can impersonate the
// server to every client, and compute every client's shared secret. With allow, it
// logs a warning instead.
func checkKeyFileMode(path string, allow bool, log *slog.Logger) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("lssd: server key %s: %w", path, err)
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	if allow {
		log.Warn("server key file is accessible to group or others; it should be mode 0600", "path", path, "mode", perm.String())
		return nil
	}
	return fmt.Errorf("lssd: server key %s has mode %v: group or others may access it; "+
		"run chmod 600 %s (or start with --allow-insecure-key-file)", path, perm, path)
}
