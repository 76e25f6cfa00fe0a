package qconfig

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResetWatermark(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wm.json")
	if err := ResetWatermark(path); err != nil {
		t.Errorf("reset of a missing file: %v", err)
	}
	for _, p := range []string{path, path + ".lock"} {
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := ResetWatermark(path); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".lock"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
}
