package provider

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// DefaultDialTimeout bounds Dial's first round trip (connect and Info) when
// Options.DialTimeout is zero.
const DefaultDialTimeout = 10 * time.Second

// DefaultMaxMessageSize is the largest reply accepted when
// Options.MaxMessageSize is zero. It is larger than gRPC's 4 MiB default because a
// Get of a wide prefix returns all of a signer's state in one message.
const DefaultMaxMessageSize = 64 << 20

// Options configure a Client.
type Options struct {
	// Addr is "host:port" or a URL: http://host:port (plaintext) or
	// https://host:port (TLS, with TLS or the system roots).
	Addr string
	// Name identifies the provider in errors; Addr if empty.
	Name string
	// ServerID is the pinned 33-byte server_id. Nil accepts whatever Info
	// returns, which is only safe when pinning it for the first time.
	ServerID []byte
	// TLS configures TLS; nil means plaintext (unless Addr is https://).
	TLS *tls.Config
	// ClientKey is the client's identity. Required.
	ClientKey *secp256k1.PrivateKey
	// HMACSecret is the 32-byte value-HMAC secret; nil means
	// wire.CLIHMACSecret(ClientKey), the secret lss-cli uses.
	HMACSecret []byte
	// Encrypt stores values in the Rust client's default format: the value HMAC
	// appended, then ChaCha20 (wire.EncryptValue).
	Encrypt bool
	// DialTimeout bounds Dial; DefaultDialTimeout if zero.
	DialTimeout time.Duration
	// MaxMessageSize is the largest reply accepted; DefaultMaxMessageSize if zero.
	MaxMessageSize int
	// Format is how values are sealed and read: FormatRust (the default, lss-cli's
	// and the Rust client's) or FormatQuorum (value MAC v2, commit proofs,
	// carriers on stock providers).
	Format Format
	// Extension pins the server as one that speaks the quorum extension. It is
	// configuration (like ServerID), never learned from a status code: when
	// set, Get uses the prefix-bound BoundGet, and an UNIMPLEMENTED answer to any
	// extension call is ErrNotExtension (the provider is faulty), never a reason
	// to fall back to the base Get, whose HMAC does not cover the prefix. When
	// unset, Get and Put use the base protocol only, and in FormatQuorum each
	// value travels in a carrier (wire.WrapCarrier).
	Extension bool
	// PageItems is the page size the client asks of an extension server's
	// BoundGet and Status (the server may cap it lower); DefaultPageItems if zero.
	// The client follows the pages to the end, so callers see whole listings.
	PageItems int32
	// MaxPages bounds the pages one Get or Status follows (DefaultMaxPages if
	// zero); a listing that does not end within it is an invalid reply. The
	// call's context bounds the time they take.
	MaxPages int
	// MaxListingRestarts bounds how many times a paged Get starts its listing
	// again because the server's generation changed between pages
	// (DefaultMaxListingRestarts if zero; negative: never restart).
	MaxListingRestarts int
	// RequireExtension is the former name of Extension; either one pins the
	// server as an extension server.
	//
	// Deprecated: use Extension.
	RequireExtension bool
}

// Paging defaults: pages of 1000 entries, at most 100,000 pages (100 million
// keys or transaction records) in one listing.
const (
	DefaultPageItems = 1000
	DefaultMaxPages  = 100_000
	// DefaultMaxListingRestarts is Options.MaxListingRestarts if zero.
	DefaultMaxListingRestarts = 10
)

// Format is a value format of the provider client.
type Format int

const (
	// FormatRust seals with the base value HMAC (key || version || value), and
	// with Options.Encrypt also the Rust client's ChaCha20: what lss-cli and the
	// Rust lss-cli read and write.
	FormatRust Format = iota
	// FormatQuorum seals with the value MAC v2 (wire.ValueMACv2), which binds the
	// key and payload with their lengths and the txid that wrote the value, and
	// checks the commit proof stored with a value whenever there is one.
	FormatQuorum
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatRust:
		return "rust"
	case FormatQuorum:
		return "quorum"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// MaxReconnectDelay caps the wait between reconnection attempts to a server that
// went away, so a provider that comes back is used again within this time.
const MaxReconnectDelay = 2 * time.Second
