package qconfig

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Watermark is the content of the watermark file: for one client, the highest
// version of each key that a quorum has acknowledged or returned. The quorum client
// refuses to return anything below it, which is what catches a rollback of every
// provider at once between two runs of the command.
type Watermark struct {
	// ClientID is the hex client_id the versions belong to.
	ClientID string `json:"client_id"`
	// Versions maps each key to its highest acknowledged version.
	Versions map[string]int64 `json:"versions"`
}

// WatermarkMismatchError is returned when the watermark file belongs to another
// client key than the one in use: its versions say nothing about this client's
// data, and silently dropping them would drop the rollback protection.
type WatermarkMismatchError struct {
	// Path is the watermark file.
	Path string
	// File is the client_id the file belongs to, InUse the one of the client
	// key in use, both hex.
	File, InUse string
}

func (e *WatermarkMismatchError) Error() string {
	return fmt.Sprintf("watermark %s belongs to client %s, but the client key in use is %s: point \"watermark\" in the config at another file, or delete this one if that client is gone", e.Path, e.File, e.InUse)
}

// LoadWatermark reads the versions recorded for clientID at path. A missing file is
// an empty watermark (the first run); a corrupt one, or one of another client, is an
// error, never silently empty.
func LoadWatermark(path string, clientID []byte) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("watermark %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w Watermark
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("watermark %s: %w (the file is damaged; deleting it removes protection against a rollback of every provider)", path, describeJSONError(b, err))
	}
	if want := hex.EncodeToString(clientID); w.ClientID != want {
		return nil, &WatermarkMismatchError{Path: path, File: w.ClientID, InUse: want}
	}
	for k, v := range w.Versions {
		if v < 0 {
			return nil, fmt.Errorf("watermark %s: key %q has negative version %d", path, k, v)
		}
	}
	if w.Versions == nil {
		w.Versions = map[string]int64{}
	}
	return w.Versions, nil
}

// SaveWatermark records versions for clientID at path, merged with what the file
// already holds (the higher version of each key wins), so that a concurrent run
// saving an older view cannot lower a version.
func SaveWatermark(path string, clientID []byte, versions map[string]int64) error {
	old, err := LoadWatermark(path, clientID)
	if err != nil {
		return err
	}
	w := Watermark{ClientID: hex.EncodeToString(clientID), Versions: MergeWatermarks(old, versions)}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("watermark %s: %w", path, err)
	}
	return nil
}

// MergeWatermarks returns, for every key in a or b, the higher of its two versions.
func MergeWatermarks(a, b map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if old, ok := out[k]; !ok || v > old {
			out[k] = v
		}
	}
	return out
}

// ResetWatermark removes the watermark file: used when a brand-new network replaces
// the old one, whose versions would otherwise all look like a rollback.
func ResetWatermark(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("watermark %s: %w", path, err)
	}
	return nil
}
