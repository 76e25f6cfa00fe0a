package clientkey

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func sentLog(t *testing.T) SentValues {
	t.Helper()
	return SentValues{Dir: t.TempDir(), HMACSecret: bytes.Repeat([]byte{5}, 32)}
}

func TestSentValuesRefusesADifferentValue(t *testing.T) {
	s := sentLog(t)
	if err := s.Record("k", 1, []byte{0xaa}); err != nil {
		t.Fatal(err)
	}
	// The same value again (a retry) is allowed, as many times as needed.
	for range 2 {
		if err := s.Record("k", 1, []byte{0xaa}); err != nil {
			t.Fatalf("resending the same value: %v", err)
		}
	}
	err := s.Record("k", 1, []byte{0xbb})
	if !errors.Is(err, ErrKeystreamReuse) || !strings.Contains(err.Error(), `key "k" at version 1`) ||
		!strings.Contains(err.Error(), "keystream") {
		t.Fatalf("different value at the same key and version: %v", err)
	}
	// Other versions and keys are free, including ones whose concatenation with
	// the version would collide.
	for _, kv := range []struct {
		key string
		v   int64
	}{{"k", 2}, {"k", 0}, {"k1", 1}, {"", 1}} {
		if err := s.Record(kv.key, kv.v, []byte{0xbb}); err != nil {
			t.Errorf("%q v%d: %v", kv.key, kv.v, err)
		}
	}
	// A refused value was not recorded: the first one is still the one allowed.
	if err := s.Record("k", 1, []byte{0xaa}); err != nil {
		t.Fatal(err)
	}
}

// The file survives across processes (a new SentValues on the same directory),
// holds neither key names nor values, and has mode 0600.
func TestSentValuesFile(t *testing.T) {
	s := sentLog(t)
	if err := s.Record("secret-key-name", 3, []byte("secret value")); err != nil {
		t.Fatal(err)
	}
	again := SentValues{Dir: s.Dir, HMACSecret: s.HMACSecret}
	if err := again.Record("secret-key-name", 3, []byte("other")); !errors.Is(err, ErrKeystreamReuse) {
		t.Fatalf("after reopening: %v", err)
	}
	path := filepath.Join(s.Dir, SentValuesFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("secret")) {
		t.Fatal("the file holds a key name or value")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func TestSentValuesIsBounded(t *testing.T) {
	s := sentLog(t)
	s.Max = 16
	for i := range s.Max + 10 {
		if err := s.Record(fmt.Sprint("k", i), 0, []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(s.Dir, SentValuesFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(sentMagic) + s.Max*sentRecordSize); fi.Size() != want {
		t.Fatalf("file of %d bytes, want %d", fi.Size(), want)
	}
	// The oldest are forgotten, the newest remembered.
	if err := s.Record("k0", 0, []byte{2}); err != nil {
		t.Fatalf("oldest pair still remembered: %v", err)
	}
	if err := s.Record(fmt.Sprint("k", s.Max+9), 0, []byte{2}); !errors.Is(err, ErrKeystreamReuse) {
		t.Fatalf("newest pair forgotten: %v", err)
	}
}

func TestSentValuesCorruptFile(t *testing.T) {
	s := sentLog(t)
	if err := os.WriteFile(filepath.Join(s.Dir, SentValuesFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := s.Record("k", 0, []byte{1})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "not a sent-values file") {
		t.Fatalf("corrupt file: %v", err)
	}
}

// Concurrent processes (here goroutines, each with its own lock descriptor) lose
// no record: exactly one of two different values for one pair gets through.
func TestSentValuesConcurrent(t *testing.T) {
	s := sentLog(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Record("k", 0, []byte{byte(i)}) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrKeystreamReuse):
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d different values accepted for one key and version", ok)
	}
}
