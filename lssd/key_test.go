package lssd

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/wire"
)

func TestKeyCreatedOnceWithPrivateModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	key, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, want 0700", di.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != hex.EncodeToString(key.Serialize()) {
		t.Errorf("key file holds %q, want the hex key", b)
	}
	again, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Serialize(), key.Serialize()) {
		t.Error("second load returned another key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only the key (no temp files)", len(entries))
	}
}

func TestKeyFileRawBytesAccepted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	raw := bytes.Repeat([]byte{0x22}, 32)
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The docs/protocol.md test vector for server_priv = 0x22 × 32.
	if got := hex.EncodeToString(wire.PublicID(key)); got != "02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27" {
		t.Errorf("server_id = %s", got)
	}
}

// TestCorruptKeyFileStopsStart checks that every kind of damaged key file is a
// clear startup error and that the file is left exactly as it was.
func TestCorruptKeyFileStopsStart(t *testing.T) {
	t.Parallel()
	order := secp256k1.S256().N.Bytes()
	cases := map[string][]byte{
		"empty":              {},
		"short raw":          bytes.Repeat([]byte{1}, 31),
		"short hex":          []byte(strings.Repeat("ab", 31) + "\n"),
		"not hex":            []byte(strings.Repeat("zz", 32)),
		"zero key":           []byte(strings.Repeat("00", 32)),
		"curve order":        []byte(hex.EncodeToString(order)),
		"truncated by crash": []byte(strings.Repeat("ab", 20)),
	}
	for name, content := range cases {
		dir := t.TempDir()
		path := filepath.Join(dir, KeyFileName)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		opts := testOptions(t)
		opts.DataDir = dir
		d, err := Start(context.Background(), opts)
		if err == nil {
			d.Kill()
			t.Errorf("%s: Start succeeded over a corrupt key file", name)
			continue
		}
		if !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not say the key file %s is corrupt", name, err, path)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(after, content) {
			t.Errorf("%s: key file was changed", name)
		}
	}
}

func TestUnreadableKeyFileStopsStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A directory where the key file should be cannot be read as a key.
	if err := os.Mkdir(filepath.Join(dir, KeyFileName), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), KeyFileName) {
		t.Errorf("key path is a directory: err = %v", err)
	}
	if os.Geteuid() != 0 { // root reads files whatever their mode
		dir := t.TempDir()
		path := filepath.Join(dir, KeyFileName)
		if err := os.WriteFile(path, []byte(strings.Repeat("ab", 32)), 0o000); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "read server key") {
			t.Errorf("unreadable key file: err = %v", err)
		}
	}
}

func TestServerIDStableAcrossStarts(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	d1, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	id := d1.ServerID()
	if err := d1.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	d2 := startDaemon(t, opts)
	if !bytes.Equal(d2.ServerID(), id) {
		t.Errorf("server_id changed across restarts: %x then %x", id, d2.ServerID())
	}
}
