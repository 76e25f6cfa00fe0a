package quorum

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// Defaults applied by New for zero Config fields.
const (
	// DefaultTimeout bounds each call to one provider.
	DefaultTimeout = 5 * time.Second
	// DefaultGrace is how long a Get keeps listening for the other providers once
	// R valid replies are in. It is short: its only purpose is to compare a lagging
	// minority that answers almost as fast, not to wait for a slow one.
	DefaultGrace = 25 * time.Millisecond
)

// ProviderConfig is one provider of the quorum.
type ProviderConfig struct {
	// Name identifies the provider in results and errors; Addr if empty. Names
	// must be distinct.
	Name string
	// Addr is "host:port", http://host:port or https://host:port.
	Addr string
	// ServerID is the pinned 33-byte server_id. A server presenting another one is
	// faulty. Nil accepts any (only safe when pinning it for the first time).
	ServerID []byte
	// TLS configures TLS; nil means plaintext unless Addr is https://.
	TLS *tls.Config
	// Stock pins the provider as a stock server that speaks only the base
	// protocol. Capabilities are configuration (pinned by `lss-quorum init`, like
	// the server_id), never learned from a status code, which nothing
	// authenticates: the zero value pins the extension, and a provider pinned so
	// that answers an extension call with UNIMPLEMENTED is faulty. Stock
	// providers never take part in a transaction: they get plain puts of decided
	// values and are named as weaker in every PutResult.
	Stock bool
}

// Mode selects how Put writes to the providers.
type Mode int

const (
	// ModeAuto uses the atomic commit when every provider's server_id is pinned
	// and at least W providers are pinned as speaking the extension, plain mode
	// otherwise.
	ModeAuto Mode = iota
	// ModePlain writes with the base protocol's Put on every provider.
	ModePlain
	// ModeAtomic always uses the atomic commit (prepare, then commit or abort);
	// New refuses it unless every provider's server_id is pinned and at least W
	// providers are pinned as extension providers (the transaction
	// participants).
	ModeAtomic
)

// String names the mode as the command line spells it.
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModePlain:
		return "plain"
	case ModeAtomic:
		return "atomic"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ParseMode is the inverse of Mode.String.
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeAuto, ModePlain, ModeAtomic} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown mode %q (want auto, plain or atomic)", s)
}

// Config configures a Client.
type Config struct {
	// Providers are the N providers; at least one.
	Providers []ProviderConfig
	// ClientKey is the client's identity (its namespace on every provider).
	// Required.
	ClientKey *secp256k1.PrivateKey
	// HMACSecret is the 32-byte value-HMAC secret; nil means
	// wire.CLIHMACSecret(ClientKey), the secret lss-cli uses.
	HMACSecret []byte
	// W is the write quorum and R the read quorum; 0 means a majority of N.
	// New refuses them unless 1 ≤ W,R ≤ N and W + R > N.
	W, R int
	// Timeout bounds every call to one provider; DefaultTimeout if zero.
	Timeout time.Duration
	// Grace is how long a Get waits for the remaining providers after R valid
	// replies; DefaultGrace if zero, no wait at all if negative.
	Grace time.Duration
	// Mode selects plain or atomic writes; ModeAuto by default.
	Mode Mode
	// SettleDeadline bounds how long a decided transaction that some provider
	// has not settled (its Commit or Abort failed) is retried in the
	// background; DefaultSettleDeadline if zero. What is left after it is
	// logged and settled by the next Open or by Recover.
	SettleDeadline time.Duration
	// AutoRepair makes every Get repair the providers it found behind, in the
	// background. Close waits for those repairs.
	AutoRepair bool
	// Watermarks keeps the watermark across restarts: New loads it, Put and
	// Get save what they raised before returning, Close saves the rest. Nil
	// keeps it in memory only (see Client.Watermark).
	Watermarks WatermarkStore
	// DisableEncryption writes values in plaintext, readable by every provider.
	// By default every value is encrypted (quorum/envelope) before it is sealed,
	// and the providers hold only ciphertext. A client with encryption disabled
	// still decrypts the encrypted values it reads.
	DisableEncryption bool
	// ReadLegacyPlaintext lets Get return values that are not encrypted (written
	// before encryption, or with it disabled) as they are; without it such a
	// value fails the Get.
	ReadLegacyPlaintext bool
	// Logger receives what the client does in the background (late replies,
	// repairs); slog.Default() if nil.
	Logger *slog.Logger
}

// ErrConfig is wrapped by every configuration error New returns.
var ErrConfig = errors.New("invalid quorum configuration")

// quorumSizes resolves W and R for n providers (0 means a majority) and checks
// the rules that make every read quorum overlap every write quorum.
func quorumSizes(n, w, r int) (int, int, error) {
	if n < 1 {
		return 0, 0, fmt.Errorf("%w: no providers", ErrConfig)
	}
	majority := n/2 + 1
	if w == 0 {
		w = majority
	}
	if r == 0 {
		r = majority
	}
	if w < 1 || w > n {
		return 0, 0, fmt.Errorf("%w: W=%d must be between 1 and N=%d", ErrConfig, w, n)
	}
	if r < 1 || r > n {
		return 0, 0, fmt.Errorf("%w: R=%d must be between 1 and N=%d", ErrConfig, r, n)
	}
	if w+r <= n {
		return 0, 0, fmt.Errorf("%w: W+R=%d must exceed N=%d so that every read quorum overlaps every write quorum",
			ErrConfig, w+r, n)
	}
	return w, r, nil
}

// providerNames resolves each provider's name (Addr when unnamed) and refuses
// missing addresses and duplicate names, since results and errors are keyed by
// name.
func providerNames(ps []ProviderConfig) ([]string, error) {
	names := make([]string, len(ps))
	seen := make(map[string]int, len(ps))
	for i, p := range ps {
		if p.Addr == "" {
			return nil, fmt.Errorf("%w: provider %d (%q) has no address", ErrConfig, i+1, p.Name)
		}
		name := p.Name
		if name == "" {
			name = p.Addr
		}
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("%w: providers %d and %d are both named %q", ErrConfig, j+1, i+1, name)
		}
		seen[name] = i
		names[i] = name
	}
	return names, nil
}
