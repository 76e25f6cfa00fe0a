package quorum

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lssquorum/lss/internal/durable"
)

// watermarkFormat is the version of the watermark file's layout. Format 0 (no
// "format" field) is the older file that kept only a version per key.
const watermarkFormat = 2

// WatermarkFile is a WatermarkStore in one JSON file, replaced atomically on
// every save (written to a temporary file, fsynced, renamed over the old one,
// directory fsynced), so a crash leaves either the old or the new content. A
// save merges with what the file holds under an advisory lock, so several
// processes of the same client (a signer and `lss-quorum audit`) never lower
// each other's versions.
//
// It reads the older format, which kept only versions: those keys get a Mark
// without a digest until a put or read fills it in.
type WatermarkFile struct {
	path     string
	clientID []byte
	mu       sync.Mutex // serializes this process's saves; the file lock serializes processes
}

// OpenWatermarkFile returns the store at path for the client whose client_id
// (its public key, as wire.PublicID returns it) is clientID. The file is
// created on the first save; a file that belongs to another client is refused
// by every call.
func OpenWatermarkFile(path string, clientID []byte) *WatermarkFile {
	return &WatermarkFile{path: path, clientID: bytes.Clone(clientID)}
}

// Path is the file's path.
func (f *WatermarkFile) Path() string { return f.path }

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

// Error says which file, which two clients, and what to do.
func (e *WatermarkMismatchError) Error() string {
	return fmt.Sprintf("watermark %s belongs to client %s, but the client key in use is %s: point \"watermark\" in the config at another file", e.Path, e.File, e.InUse)
}

// watermarkJSON is the file's layout; Versions is the older format's only field.
type watermarkJSON struct {
	Format    int                         `json:"format,omitempty"`
	ClientID  string                      `json:"client_id"`
	Keys      map[string]markJSON         `json:"keys,omitempty"`
	Providers map[string]map[string]int64 `json:"providers,omitempty"`
	Versions  map[string]int64            `json:"versions,omitempty"`
	// Aborted: see Watermarks.Aborted. Absent while empty, so a file without
	// aborts stays readable by releases from before it.
	Aborted map[string]int64 `json:"aborted,omitempty"`
}

type markJSON struct {
	Version int64  `json:"version"`
	SHA256  string `json:"sha256,omitempty"`
}

// Load reads the file; a missing file is an empty watermark (the first run). A
// damaged file, or one of another client, is an error, never silently empty.
func (f *WatermarkFile) Load(ctx context.Context) (Watermarks, error) {
	if err := ctx.Err(); err != nil {
		return Watermarks{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := os.Stat(filepath.Dir(f.path)); errors.Is(err, os.ErrNotExist) {
		return Watermarks{Keys: map[string]Mark{}}, nil // the first run; Save creates it
	}
	unlock, err := lockFile(ctx, f.path+".lock")
	if err != nil {
		return Watermarks{}, fmt.Errorf("watermark %s: %w", f.path, err)
	}
	defer unlock()
	return f.read()
}

// Save merges w into the file (per key the higher version wins) and replaces
// it durably.
func (f *WatermarkFile) Save(ctx context.Context, w Watermarks) error {
	return f.update(ctx, func(cur *Watermarks) {
		raiseWatermarks(cur, w)
		trimAborted(cur.Aborted, time.Now())
	})
}

// Reset deliberately forgets keys (every key when keys is empty): the
// client's marks and what every provider confirmed. It is the way out after a
// rollback that nobody can repair, once an operator decided to accept the
// providers' older state; after it, that state is read without a rollback
// error. It is the only operation that lowers the watermark.
func (f *WatermarkFile) Reset(ctx context.Context, keys []string) error {
	return f.update(ctx, func(cur *Watermarks) { resetWatermarks(cur, keys) })
}

// update applies change to the file's content under the lock and writes it.
func (f *WatermarkFile) update(ctx context.Context, change func(*Watermarks)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("watermark %s: %w", f.path, err)
	}
	unlock, err := lockFile(ctx, f.path+".lock")
	if err != nil {
		return fmt.Errorf("watermark %s: %w", f.path, err)
	}
	defer unlock()
	cur, err := f.read()
	if err != nil {
		return err
	}
	change(&cur)
	b, err := encodeWatermarks(f.clientID, cur)
	if err != nil {
		return fmt.Errorf("watermark %s: %w", f.path, err)
	}
	if err := durable.WriteReplace(f.path, b, 0o600); err != nil {
		return fmt.Errorf("watermark %s: %w", f.path, err)
	}
	return nil
}

// read parses the file; the caller holds the lock.
func (f *WatermarkFile) read() (Watermarks, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return Watermarks{Keys: map[string]Mark{}}, nil
	}
	if err != nil {
		return Watermarks{}, fmt.Errorf("watermark %s: %w", f.path, err)
	}
	w, fileID, err := decodeWatermarks(b)
	if err != nil {
		return Watermarks{}, fmt.Errorf("watermark %s: %w (the file is damaged; restore it from a backup, or reset it deliberately with `lss-quorum watermark reset`)", f.path, err)
	}
	if want := hex.EncodeToString(f.clientID); fileID != want {
		return Watermarks{}, &WatermarkMismatchError{Path: f.path, File: fileID, InUse: want}
	}
	return w, nil
}

// decodeWatermarks parses either format and checks every value.
func decodeWatermarks(b []byte) (Watermarks, string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j watermarkJSON
	if err := dec.Decode(&j); err != nil {
		return Watermarks{}, "", err
	}
	if dec.More() {
		return Watermarks{}, "", errors.New("unexpected data after the JSON object")
	}
	w := Watermarks{Keys: make(map[string]Mark)}
	switch j.Format {
	case 0:
		if j.Keys != nil || j.Providers != nil {
			return Watermarks{}, "", errors.New(`"keys" or "providers" without "format"`)
		}
		for k, v := range j.Versions {
			if v < 0 {
				return Watermarks{}, "", fmt.Errorf("key %q has negative version %d", k, v)
			}
			w.Keys[k] = Mark{Version: v}
		}
	case watermarkFormat:
		if j.Versions != nil {
			return Watermarks{}, "", fmt.Errorf(`"versions" is the old format's field; format %d has "keys"`, watermarkFormat)
		}
		for k, m := range j.Keys {
			if m.Version < 0 {
				return Watermarks{}, "", fmt.Errorf("key %q has negative version %d", k, m.Version)
			}
			mark := Mark{Version: m.Version}
			if m.SHA256 != "" {
				d, err := hex.DecodeString(m.SHA256)
				if err != nil || len(d) != 32 {
					return Watermarks{}, "", fmt.Errorf("key %q: sha256 %q is not 64 hex digits", k, m.SHA256)
				}
				mark.Digest = d
			}
			w.Keys[k] = mark
		}
		for name, vs := range j.Providers {
			for k, v := range vs {
				if v < 0 {
					return Watermarks{}, "", fmt.Errorf("provider %q: key %q has negative version %d", name, k, v)
				}
			}
		}
		w.Confirmed = j.Providers
		for txid, at := range j.Aborted {
			if id, err := hex.DecodeString(txid); err != nil || len(id) == 0 {
				return Watermarks{}, "", fmt.Errorf("aborted transaction %q is not a hex txid", txid)
			}
			if at < 0 {
				return Watermarks{}, "", fmt.Errorf("aborted transaction %s has negative time %d", txid, at)
			}
		}
		w.Aborted = j.Aborted
	default:
		return Watermarks{}, "", fmt.Errorf("unknown format %d (this program reads 0 and %d)", j.Format, watermarkFormat)
	}
	return w, j.ClientID, nil
}

// encodeWatermarks renders w in the current format.
func encodeWatermarks(clientID []byte, w Watermarks) ([]byte, error) {
	j := watermarkJSON{Format: watermarkFormat, ClientID: hex.EncodeToString(clientID), Keys: map[string]markJSON{},
		Providers: w.Confirmed, Aborted: w.Aborted}
	for k, m := range w.Keys {
		j.Keys[k] = markJSON{Version: m.Version, SHA256: hex.EncodeToString(m.Digest)}
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
