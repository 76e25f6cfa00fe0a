package durable

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// wantFile checks path's content and permission bits.
func wantFile(t *testing.T, path string, content []byte, perm os.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("%s holds %q, want %q", path, got, content)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != perm {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), perm)
	}
}

// wantEntries checks that dir holds exactly the given names, so no temporary
// file was left behind.
func wantEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != fmt.Sprint(names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func TestWriteNewCreates(t *testing.T) {
	t.Parallel()
	for _, perm := range []os.FileMode{0o600, 0o644} {
		dir := t.TempDir()
		path := filepath.Join(dir, "key")
		if err := WriteNew(path, []byte("secret\n"), perm); err != nil {
			t.Fatal(err)
		}
		wantFile(t, path, []byte("secret\n"), perm)
		wantEntries(t, dir, "key")
	}
}

func TestWriteNewRefusesExisting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	err := WriteNew(path, []byte("new"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteNew over an existing file: err = %v, want fs.ErrExist", err)
	}
	wantFile(t, path, []byte("old"), 0o640)
	wantEntries(t, dir, "key")
}

// TestWriteNewConcurrent checks that of many writers racing to create one name,
// exactly one wins, every other is told the file exists, and the file holds the
// winner's data.
func TestWriteNewConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	const writers = 16
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { errs[i] = WriteNew(path, fmt.Appendf(nil, "writer %d", i), 0o600) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both created the file", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("writer %d: err = %v, want fs.ErrExist", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer created the file")
	}
	wantFile(t, path, fmt.Appendf(nil, "writer %d", winner), 0o600)
	wantEntries(t, dir, "key")
}

func TestWriteReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := WriteReplace(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantFile(t, path, []byte("first"), 0o600)
	// Replacing sets the new mode too: the old file is not written in place.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteReplace(path, []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantFile(t, path, []byte("second"), 0o600)
	wantEntries(t, dir, "config.json")
}

// TestFailuresLeaveNothing checks that a failed write leaves the directory as it
// was: no temporary file, no destination.
func TestFailuresLeaveNothing(t *testing.T) {
	t.Parallel()
	writers := map[string]func(string, []byte, os.FileMode) error{
		"WriteNew": WriteNew, "WriteReplace": WriteReplace,
	}
	for name, write := range writers {
		// The destination's directory does not exist.
		dir := t.TempDir()
		err := write(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s into a missing directory: err = %v, want fs.ErrNotExist", name, err)
		}
		wantEntries(t, dir)

		// The destination is a non-empty directory, which neither link nor rename
		// may replace; the temporary file is written before that is found out.
		dir = t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "f", "inside"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := write(filepath.Join(dir, "f"), []byte("x"), 0o600); err == nil {
			t.Errorf("%s over a non-empty directory succeeded", name)
		}
		wantEntries(t, dir, "f")
		wantEntries(t, filepath.Join(dir, "f"), "inside")
	}
}

func TestSyncDir(t *testing.T) {
	t.Parallel()
	if err := SyncDir(t.TempDir()); err != nil {
		t.Errorf("SyncDir of a directory: %v", err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir of a missing directory: err = %v, want fs.ErrNotExist", err)
	}
}
