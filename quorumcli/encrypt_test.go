package quorumcli_test

import (
	"bytes"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lssquorum/lss/internal/qconfig"
)

// grepTree reports whether any file under dir contains needle.
func grepTree(t *testing.T, dir string, needle []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || found {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = bytes.Contains(b, needle)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// setValues rewrites the configuration's encryption settings.
func setValues(t *testing.T, cfgPath string, disable, legacy bool) {
	t.Helper()
	cfg, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DisableEncryption, cfg.ReadLegacyPlaintext = disable, legacy
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
}

// lss-quorum put encrypts: the testnet's databases hold no plaintext, get
// decrypts. A value written with "disable_encryption" is in the databases as
// plaintext (so the search works) and is read only with "read_legacy_plaintext".
func TestValuesAreEncryptedOnTheProviders(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.json")
	startTestnet(t, home, cfgPath, "-n", "3")
	c := []string{"--config", cfgPath}
	expect(t, run(t, home, append(c, "init")...), 0)
	cfg, err := qconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}

	secret := []byte("the signer's secret channel state")
	expect(t, run(t, home, append(c, "put", "chan/1", "0", hex.EncodeToString(secret))...), 0)
	r := run(t, home, append(c, "get", "chan/")...)
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^chan/1\s+0\s+`+hex.EncodeToString(secret)+`$`)
	if grepTree(t, cfg.TestnetDir, secret) {
		t.Fatal("a provider's database holds the plaintext of an encrypted value")
	}

	setValues(t, cfgPath, true, false)
	visible := []byte("written with encryption disabled")
	expect(t, run(t, home, append(c, "put", "old/1", "0", hex.EncodeToString(visible))...), 0)
	if !grepTree(t, cfg.TestnetDir, visible) {
		t.Fatal("the plaintext written with encryption disabled is not found: the search is broken")
	}
	setValues(t, cfgPath, false, false)
	expect(t, run(t, home, append(c, "get", "old/")...), 1, "unknown format", `"read_legacy_plaintext": true`)
	setValues(t, cfgPath, false, true)
	r = run(t, home, append(c, "get", "old/")...)
	expect(t, r, 0)
	lineMatch(t, r.stdout, `^old/1\s+0\s+`+hex.EncodeToString(visible)+`$`)
}
