package clientkey

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/wire"
)

// The docs/protocol.md test vector: client key 0x11 repeated.
const (
	vecClientKey = "1111111111111111111111111111111111111111111111111111111111111111"
	vecClientID  = "034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa"
	vecServerID  = "02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27"
)

func TestLoadOrCreateCreatesOnceWithPrivateMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", ClientKeyFile)
	key, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate = %v, created %v", err, created)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	content, _ := os.ReadFile(path)
	if string(content) != hex.EncodeToString(key.Serialize()) {
		t.Errorf("file = %q, want bare hex of the key (no newline, as the Rust tool writes)", content)
	}
	again, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate = %v, created %v", err, created)
	}
	if !again.Key.Equals(&key.Key) {
		t.Error("second LoadOrCreate returned another key")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the key (temporary file left behind?)", len(entries))
	}
}

func TestLoadReadsRustFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ClientKeyFile)
	// Written by hand, with a trailing newline as an editor would leave.
	if err := os.WriteFile(path, []byte(vecClientKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(wire.PublicID(key)); got != vecClientID {
		t.Errorf("client_id = %s, want %s", got, vecClientID)
	}
}

func TestLoadMissingIsNotInitialized(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), ClientKeyFile))
	if !errors.Is(err, ErrNotInitialized) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotInitialized", err)
	}
}

func TestCorruptClientKeyIsAnErrorAndKept(t *testing.T) {
	t.Parallel()
	order := hex.EncodeToString(secp256k1.S256().N.Bytes())
	cases := map[string]string{
		"empty":       "",
		"not hex":     strings.Repeat("zz", 32),
		"short":       vecClientKey[:62],
		"long":        vecClientKey + "11",
		"zero":        strings.Repeat("00", 32),
		"group order": order,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), ClientKeyFile)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Errorf("Load err = %v, want ErrCorrupt naming the file", err)
			}
			if _, _, err := LoadOrCreate(path); !errors.Is(err, ErrCorrupt) {
				t.Errorf("LoadOrCreate err = %v, want ErrCorrupt", err)
			}
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Errorf("corrupt file was changed to %q", got)
			}
		})
	}
}

func TestConcurrentCreatorsAgreeOnOneKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ClientKeyFile)
	const n = 8
	keys := make([]*secp256k1.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], _, errs[i] = LoadOrCreate(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if !keys[i].Key.Equals(&keys[0].Key) {
			t.Fatalf("creator %d got a different key", i)
		}
	}
}

func TestPinServerKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ServerKeyFile)
	id, _ := hex.DecodeString(vecServerID)
	if _, err := LoadServerKey(path); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("LoadServerKey before pinning: %v, want ErrNotInitialized", err)
	}
	created, err := PinServerKey(path, id)
	if err != nil || !created {
		t.Fatalf("PinServerKey = %v, created %v", err, created)
	}
	if content, _ := os.ReadFile(path); string(content) != vecServerID {
		t.Errorf("file = %q, want %s", content, vecServerID)
	}
	got, err := LoadServerKey(path)
	if err != nil || !bytes.Equal(got, id) {
		t.Fatalf("LoadServerKey = %x, %v", got, err)
	}
	if created, err := PinServerKey(path, id); err != nil || created {
		t.Errorf("re-pinning the same key = %v, created %v", err, created)
	}

	other := wire.PublicID(secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x33}, 32)))
	if _, err := PinServerKey(path, other); !errors.Is(err, ErrServerKeyChanged) {
		t.Errorf("pinning another key: %v, want ErrServerKeyChanged", err)
	}
	if got, _ := LoadServerKey(path); !bytes.Equal(got, id) {
		t.Error("the pinned key was replaced")
	}
	if _, err := PinServerKey(filepath.Join(t.TempDir(), ServerKeyFile), id[:32]); !errors.Is(err, wire.ErrBadPublicKey) {
		t.Errorf("pinning a 32-byte key: %v, want ErrBadPublicKey", err)
	}
}

func TestCorruptServerKeyIsNotOverwritten(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ServerKeyFile)
	if err := os.WriteFile(path, []byte("02abcd"), 0o600); err != nil {
		t.Fatal(err)
	}
	id, _ := hex.DecodeString(vecServerID)
	if _, err := LoadServerKey(path); !errors.Is(err, ErrCorrupt) {
		t.Errorf("LoadServerKey: %v, want ErrCorrupt", err)
	}
	if _, err := PinServerKey(path, id); !errors.Is(err, ErrCorrupt) {
		t.Errorf("PinServerKey: %v, want ErrCorrupt", err)
	}
	if content, _ := os.ReadFile(path); string(content) != "02abcd" {
		t.Errorf("corrupt file was changed to %q", content)
	}
}
