package qconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWatermarkRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wm.json")
	client := []byte{0x02, 0xaa}
	got, err := LoadWatermark(path, client)
	if err != nil || len(got) != 0 {
		t.Fatalf("missing file = %v, %v; want empty", got, err)
	}
	if err := SaveWatermark(path, client, map[string]int64{"a": 3, "b": 1}); err != nil {
		t.Fatal(err)
	}
	// A second save with an older view must not lower anything.
	if err := SaveWatermark(path, client, map[string]int64{"a": 1, "c": 0}); err != nil {
		t.Fatal(err)
	}
	got, err = LoadWatermark(path, client)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["a"] != 3 || got["b"] != 1 || got["c"] != 0 {
		t.Errorf("watermark = %v, want a:3 b:1 c:0", got)
	}
}

func TestWatermarkOfAnotherClient(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wm.json")
	if err := SaveWatermark(path, []byte{1}, map[string]int64{"a": 1}); err != nil {
		t.Fatal(err)
	}
	_, err := LoadWatermark(path, []byte{2})
	var mm *WatermarkMismatchError
	if !errors.As(err, &mm) || mm.File != "01" || mm.InUse != "02" {
		t.Errorf("err = %v", err)
	}
	if err := SaveWatermark(path, []byte{2}, nil); err == nil {
		t.Error("saved over another client's watermark")
	}
}

func TestWatermarkDamaged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage":  "not json",
		"negative": `{"client_id": "01", "versions": {"a": -2}}`,
		"unknown":  `{"client_id": "01", "version": {}}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadWatermark(path, []byte{1}); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
}

func TestResetWatermark(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wm.json")
	if err := ResetWatermark(path); err != nil {
		t.Errorf("reset of a missing file: %v", err)
	}
	if err := SaveWatermark(path, []byte{1}, map[string]int64{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if err := ResetWatermark(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file still there: %v", err)
	}
}

func TestMergeWatermarks(t *testing.T) {
	t.Parallel()
	got := MergeWatermarks(map[string]int64{"a": 1, "b": 5}, map[string]int64{"a": 2, "b": 4, "c": 0})
	if len(got) != 3 || got["a"] != 2 || got["b"] != 5 || got["c"] != 0 {
		t.Errorf("merge = %v", got)
	}
}
