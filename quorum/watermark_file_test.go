package quorum

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestWatermarkFileRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "wm.json")
	f := OpenWatermarkFile(path, []byte{0x02, 0xaa})
	got, err := f.Load(ctx)
	if err != nil || len(got.Keys) != 0 || got.Confirmed != nil {
		t.Fatalf("missing file = %+v, %v; want empty", got, err)
	}
	if err := f.Save(ctx, Watermarks{
		Keys:      map[string]Mark{"a": mk(3, "a3"), "b": mk(1, "b1")},
		Confirmed: map[string]map[string]int64{"p0": {"a": 3}, "p1": {"a": 2, "b": 1}},
	}); err != nil {
		t.Fatal(err)
	}
	// A second save with an older view must not lower anything.
	if err := f.Save(ctx, Watermarks{
		Keys:      map[string]Mark{"a": mk(1, "a1"), "c": mk(0, "c0")},
		Confirmed: map[string]map[string]int64{"p0": {"a": 1}, "p1": {"a": 3}},
	}); err != nil {
		t.Fatal(err)
	}
	got, err = OpenWatermarkFile(path, []byte{0x02, 0xaa}).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Watermarks{
		Keys:      map[string]Mark{"a": mk(3, "a3"), "b": mk(1, "b1"), "c": mk(0, "c0")},
		Confirmed: map[string]map[string]int64{"p0": {"a": 3}, "p1": {"a": 3, "b": 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %+v, want %+v", got, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode: %v, %v", fi, err)
	}
	// Only what Save wrote is in the directory: no temporary file left.
	names, _ := os.ReadDir(filepath.Dir(path))
	if len(names) != 2 {
		t.Errorf("directory holds %v, want the file and its lock", names)
	}

	// Reset is the one way down: one key, then everything.
	if err := f.Reset(ctx, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	got, _ = f.Load(ctx)
	if _, ok := got.Keys["a"]; ok || !reflect.DeepEqual(got.Keys["b"], mk(1, "b1")) || got.Confirmed["p0"] != nil || got.Confirmed["p1"]["a"] != 0 {
		t.Errorf("after reset of a: %+v", got)
	}
	if err := f.Reset(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ = f.Load(ctx); len(got.Keys) != 0 || len(got.Confirmed) != 0 {
		t.Errorf("after reset of everything: %+v", got)
	}
}

// Two stores on one file (two processes of one client) saving at once never
// lose a rise: each save merges under the file lock.
func TestWatermarkFileConcurrentSaves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wm.json")
	var wg sync.WaitGroup
	for w := range 4 {
		f := OpenWatermarkFile(path, []byte{1})
		wg.Go(func() {
			for i := range 10 {
				key := string(rune('a'+w)) + string(rune('0'+i))
				if err := f.Save(ctx, Watermarks{Keys: map[string]Mark{key: {Version: int64(i)}}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err := OpenWatermarkFile(path, []byte{1}).Load(ctx)
	if err != nil || len(got.Keys) != 40 {
		t.Errorf("loaded %d keys (%v), want 40", len(got.Keys), err)
	}
}

func TestWatermarkFileOfAnotherClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wm.json")
	if err := OpenWatermarkFile(path, []byte{1}).Save(ctx, Watermarks{Keys: map[string]Mark{"a": {Version: 1}}}); err != nil {
		t.Fatal(err)
	}
	other := OpenWatermarkFile(path, []byte{2})
	_, err := other.Load(ctx)
	var mm *WatermarkMismatchError
	if !errors.As(err, &mm) || mm.File != "01" || mm.InUse != "02" {
		t.Errorf("err = %v", err)
	}
	if err := other.Save(ctx, Watermarks{}); err == nil {
		t.Error("saved over another client's watermark")
	}
}

// The file of earlier versions (versions only) is read; the next save writes
// the current format, keeping those versions.
func TestWatermarkFileReadsTheOldFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wm.json")
	if err := os.WriteFile(path, []byte(`{"client_id": "01", "versions": {"k0": 5, "k1": 0}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := OpenWatermarkFile(path, []byte{1})
	got, err := f.Load(ctx)
	if err != nil || !reflect.DeepEqual(got.Keys, map[string]Mark{"k0": {Version: 5}, "k1": {Version: 0}}) {
		t.Fatalf("old file = %+v, %v", got, err)
	}
	if err := f.Save(ctx, Watermarks{Keys: map[string]Mark{"k0": mk(5, "v5")}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"format": 2`) || strings.Contains(string(b), `"versions"`) {
		t.Errorf("saved file is not in the current format:\n%s", b)
	}
	got, _ = f.Load(ctx)
	if !reflect.DeepEqual(got.Keys, map[string]Mark{"k0": mk(5, "v5"), "k1": {Version: 0}}) {
		t.Errorf("after save: %+v", got.Keys)
	}
}

func TestWatermarkFileDamaged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage":        "not json",
		"negative":       `{"client_id": "01", "versions": {"a": -2}}`,
		"unknown field":  `{"client_id": "01", "version": {}}`,
		"bad digest":     `{"format": 2, "client_id": "01", "keys": {"a": {"version": 1, "sha256": "zz"}}}`,
		"future format":  `{"format": 3, "client_id": "01"}`,
		"mixed formats":  `{"format": 2, "client_id": "01", "versions": {"a": 1}}`,
		"negative conf.": `{"format": 2, "client_id": "01", "providers": {"p0": {"a": -1}}}`,
		"trailing data":  `{"client_id": "01"} {}`,
		"aborted txid":   `{"format": 2, "client_id": "01", "aborted": {"xyz": 5}}`,
		"aborted time":   `{"format": 2, "client_id": "01", "aborted": {"0a0b": -5}}`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenWatermarkFile(path, []byte{1}).Load(context.Background()); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
}
