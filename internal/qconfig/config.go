package qconfig

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lssquorum/lss/quorum"
)

// DefaultTimeout is the per-call deadline when the configuration sets none: the
// library's, so a program and lss-quorum on the same configuration behave alike.
const DefaultTimeout = quorum.DefaultTimeout

// DefaultClientKeyFile is the client key's file name, next to the configuration (the Rust lss-cli's name),
// when the configuration names none.
const DefaultClientKeyFile = "client-key"

// Config is the lss-quorum configuration file.
type Config struct {
	// Providers are the LSS servers that together hold the client's data.
	Providers []Provider `json:"providers"`
	// W is the write quorum; 0 means a majority of the providers.
	W int `json:"w,omitempty"`
	// R is the read quorum; 0 means a majority of the providers.
	R int `json:"r,omitempty"`
	// Timeout is the deadline of each call to a provider; zero means DefaultTimeout.
	Timeout Duration `json:"timeout,omitempty"`
	// Grace is how long a read waits for lagging providers once a quorum has
	// answered; zero leaves the quorum client's default.
	Grace Duration `json:"grace,omitempty"`
	// Mode is how puts are written: "auto" (the quorum client chooses: the atomic
	// commit where providers support the extension), "plain" or "atomic"; empty
	// means "auto".
	Mode string `json:"mode,omitempty"`
	// ClientKey is the path of the client key file; empty means DefaultClientKeyFile.
	ClientKey string `json:"client_key,omitempty"`
	// Watermark is the path of the watermark file; empty means
	// "<config name>.watermark.json" next to the configuration.
	Watermark string `json:"watermark,omitempty"`
	// DisableEncryption writes values in plaintext, readable by every provider
	// (quorum.Config.DisableEncryption); by default they are encrypted.
	DisableEncryption bool `json:"disable_encryption,omitempty"`
	// ReadLegacyPlaintext lets reads return values stored unencrypted
	// (quorum.Config.ReadLegacyPlaintext).
	ReadLegacyPlaintext bool `json:"read_legacy_plaintext,omitempty"`
	// TestnetDir is set by `lss-quorum testnet up` to the network's data
	// directory. It marks a file that a later `testnet up` may overwrite; a file
	// without it describes a real deployment and is never overwritten.
	TestnetDir string `json:"testnet_dir,omitempty"`

	// path is where the configuration was read from or will be written to; relative
	// paths inside it are resolved against its directory.
	path string
}

// Provider is one LSS server in the configuration.
type Provider struct {
	// Name identifies the provider in every message; unique within the file.
	Name string `json:"name"`
	// Addr is the provider's host:port.
	Addr string `json:"addr"`
	// ServerID is the pinned server identity, hex; empty until `init` pins it.
	ServerID string `json:"server_id,omitempty"`
	// Capability is the pinned capability: CapabilityExtension or
	// CapabilityStock; empty until `init` pins it (and treated as the
	// extension meanwhile, the choice an attacker cannot downgrade). It is
	// configuration, never learned at run time from a status code.
	Capability string `json:"capability,omitempty"`
	// TLS, when set, makes the connection use TLS with these files.
	TLS *TLSFiles `json:"tls,omitempty"`
}

// TLSFiles are the PEM files of a TLS connection to one provider.
type TLSFiles struct {
	// CA is the certificate authority that signed the server's certificate; empty
	// means the system roots.
	CA string `json:"ca,omitempty"`
	// Cert is the client certificate, for servers that require mutual TLS;
	// set together with Key, or neither.
	Cert string `json:"cert,omitempty"`
	// Key is the client certificate's private key.
	Key string `json:"key,omitempty"`
	// ServerName is the name to verify in the server certificate when it is not the
	// host part of Addr.
	ServerName string `json:"server_name,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string ("10s").
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// String formats the duration as Go does ("1.5s").
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalJSON accepts a duration string such as "500ms" or "10s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"10s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration string such as \"10s\": %v", err)
	}
	*d = Duration(v)
	return nil
}

// ErrNotFound is returned (wrapped) by Load when the configuration file does not exist.
var ErrNotFound = errors.New("configuration file not found")

// Load reads and checks the configuration at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (create it with `lss-quorum testnet up`, or write it by hand: see `lss-quorum help config`)", ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg, err := Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.path = path
	return cfg, nil
}

// Parse decodes and checks a configuration. Unknown fields are refused, so that a
// misspelt field ("server-id") is an error rather than silently ignored.
func Parse(r io.Reader) (*Config, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	// The durations are decoded as strings here, shadowing Config's fields, so that
	// a bad one is reported with its field name.
	var file struct {
		Config
		Timeout string `json:"timeout,omitempty"`
		Grace   string `json:"grace,omitempty"`
	}
	if err := dec.Decode(&file); err != nil {
		return nil, describeJSONError(b, err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	cfg := file.Config
	if cfg.Timeout, err = parseDuration("timeout", file.Timeout); err != nil {
		return nil, err
	}
	if cfg.Grace, err = parseDuration("grace", file.Grace); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func parseDuration(field, s string) (Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as \"10s\" or \"500ms\", got %q", field, s)
	}
	return Duration(d), nil
}

// describeJSONError turns a decoding error into one that gives the line and the
// field, which encoding/json only gives as a byte offset.
func describeJSONError(b []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at line %d: %v", lineOf(b, syn.Offset), syn)
	case errors.As(err, &typ):
		return fmt.Errorf("%q at line %d: want %s, got JSON %s", strings.TrimPrefix(typ.Field, "Config."), lineOf(b, typ.Offset), typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return errors.New("empty file: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("invalid JSON: the file ends at line %d before the object is closed (is it truncated?)", lineOf(b, int64(len(b))))
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return fmt.Errorf("%s (see `lss-quorum help config` for the fields)", strings.TrimPrefix(err.Error(), "json: "))
	}
	return err
}

// lineOf is the 1-based line of byte offset off in b.
func lineOf(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return 1 + bytes.Count(b[:off], []byte("\n"))
}

// New returns an empty configuration that will be saved at path.
func New(path string) *Config { return &Config{path: path} }

// Path is where the configuration was loaded from or will be saved.
func (c *Config) Path() string { return c.path }

// SetPath changes where Save writes the configuration; relative paths inside it are
// then resolved against the new directory.
func (c *Config) SetPath(path string) { c.path = path }

// Resolve makes a path from the configuration absolute: "~/" is the home
// directory (so that, say, the Rust lss-cli's ~/.lss/client-key can be shared),
// and any other relative path is relative to the configuration's directory.
func (c *Config) Resolve(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.path), p)
}

// ClientKeyPath is the resolved path of the client key file.
func (c *Config) ClientKeyPath() string {
	if c.ClientKey == "" {
		return c.Resolve(DefaultClientKeyFile)
	}
	return c.Resolve(c.ClientKey)
}

// WatermarkPath is the resolved path of the watermark file.
func (c *Config) WatermarkPath() string {
	if c.Watermark != "" {
		return c.Resolve(c.Watermark)
	}
	return DefaultWatermarkPath(c.path)
}

// DefaultWatermarkPath is the watermark file used for the configuration at
// configPath when the configuration names none: "config.json" gives
// "config.watermark.json" in the same directory.
func DefaultWatermarkPath(configPath string) string {
	base := strings.TrimSuffix(filepath.Base(configPath), filepath.Ext(configPath))
	return filepath.Join(filepath.Dir(configPath), base+".watermark.json")
}

// CallTimeout is the per-call deadline, DefaultTimeout when unset.
func (c *Config) CallTimeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return time.Duration(c.Timeout)
}

// Quorum returns W and R with a majority filled in for each one left at zero.
func (c *Config) Quorum() (w, r int) {
	majority := len(c.Providers)/2 + 1
	w, r = c.W, c.R
	if w == 0 {
		w = majority
	}
	if r == 0 {
		r = majority
	}
	return w, r
}

// The capabilities a provider can be pinned with.
const (
	// CapabilityExtension: the provider speaks the quorum extension and takes
	// part in atomic puts.
	CapabilityExtension = "extension"
	// CapabilityStock: a stock LSS server (base protocol only); it gets plain
	// puts of decided values and is named as weaker.
	CapabilityStock = "stock"
)

// Stock reports whether the provider is pinned as a stock server.
func (p Provider) Stock() bool { return p.Capability == CapabilityStock }

// ServerIDBytes decodes a provider's pinned server_id; nil when it is not pinned.
func (p Provider) ServerIDBytes() []byte {
	if p.ServerID == "" {
		return nil
	}
	b, err := hex.DecodeString(p.ServerID)
	if err != nil {
		return nil // Validate refuses such a file, so this is not reached after Load.
	}
	return b
}

// QuorumMode is the configured write mode, quorum.ModeAuto when unset.
func (c *Config) QuorumMode() quorum.Mode {
	if c.Mode == "" {
		return quorum.ModeAuto
	}
	m, _ := quorum.ParseMode(c.Mode) // Validate refuses an unknown mode
	return m
}

// Save writes the configuration to its path atomically, creating the directory.
func (c *Config) Save() error {
	if c.path == "" {
		return errors.New("config: no path to save to")
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("config %s: refusing to save: %w", c.path, err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := writeFileAtomic(c.path, b); err != nil {
		return fmt.Errorf("config %s: %w", c.path, err)
	}
	return nil
}
