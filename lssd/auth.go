package lssd

import (
	"crypto/subtle"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultSecretCacheSize is how many clients' shared secrets are kept, so that a
// busy client costs one ECDH in total rather than one per request.
const DefaultSecretCacheSize = 100_000

// authenticator checks a request's Auth and returns the client's shared secret.
type authenticator struct {
	key *secp256k1.PrivateKey
	// cache maps a client_id, as sent, to what authenticating it established. Only
	// clients that presented the right token are cached, and the least recently
	// used is evicted first: made-up identities cannot push a client in steady use
	// out of it (they never enter it), and real but idle ones leave first.
	cache *lru[string, authenticated]
}

// authenticated is what a verified client_id maps to.
type authenticated struct {
	secret [wire.SecretSize]byte
	token  [wire.SecretSize]byte
	// namespace is the compressed form of the client's key: the one namespace a
	// key has, whichever encoding the client sent.
	namespace []byte
}

func newAuthenticator(key *secp256k1.PrivateKey, cacheSize int) *authenticator {
	if cacheSize <= 0 {
		cacheSize = DefaultSecretCacheSize
	}
	return &authenticator{key: key, cache: newLRU[string, authenticated](cacheSize)}
}

// missingAuth is the status of a request without an Auth. It must be checked
// explicitly: the generated getters are nil-safe, so a missing Auth would otherwise
// read as an empty client_id and come out UNAUTHENTICATED.
var missingAuth = status.Error(codes.InvalidArgument, "auth missing")

var badToken = status.Error(codes.InvalidArgument, "token does not match client_id")

// cached reports whether id was authenticated recently, so that checking it again
// costs no ECDH.
func (a *authenticator) cached(id []byte) bool {
	_, ok := a.cache.get(string(id))
	return ok
}

// authenticate checks auth (which must not be nil): client_id must be a public key
// the Rust server would accept (else UNAUTHENTICATED) and the token must be SHA256
// of the shared secret (else INVALID_ARGUMENT, as the Rust server answers). It
// returns the shared secret, and rewrites auth.ClientId to the compressed form of
// the key, so that the caller's namespace is the same for every encoding of it.
//
// The ECDH is the expensive step: it is skipped for a cached client and for a
// token that cannot match (wrong length), and only a client that passed is cached.
func (a *authenticator) authenticate(auth *lsspb.Auth) ([]byte, error) {
	id := auth.GetClientId()
	if c, ok := a.cache.get(string(id)); ok {
		if subtle.ConstantTimeCompare(c.token[:], auth.GetToken()) != 1 {
			return nil, badToken
		}
		auth.ClientId = c.namespace
		return c.secret[:], nil
	}
	pub, err := parseClientID(id)
	if err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "client_id: %v", err)
	}
	if len(auth.GetToken()) != wire.SecretSize {
		return nil, badToken
	}
	c := authenticated{secret: wire.SharedSecret(a.key, pub), namespace: pub.SerializeCompressed()}
	c.token = wire.Token(c.secret)
	if subtle.ConstantTimeCompare(c.token[:], auth.GetToken()) != 1 {
		return nil, badToken
	}
	a.cache.put(string(id), c)
	auth.ClientId = c.namespace
	return c.secret[:], nil
}

// parseClientID accepts exactly the encodings the Rust server's key parser
// (libsecp256k1's ec_pubkey_parse) takes: 33-byte compressed (0x02, 0x03), 65-byte
// uncompressed (0x04) and 65-byte hybrid (0x06, 0x07, whose tag must match the
// parity of Y). The shared secret is derived from the point, as the Rust server
// derives it, so it is the same for every encoding.
func parseClientID(id []byte) (*secp256k1.PublicKey, error) {
	switch {
	case len(id) == wire.PublicKeySize:
		return wire.ParsePublicKey(id)
	case len(id) == secp256k1.PubKeyBytesLenUncompressed && id[0] == 0x04:
		return parseUncompressed(id)
	case len(id) == secp256k1.PubKeyBytesLenUncompressed && (id[0] == 0x06 || id[0] == 0x07):
		// Hybrid: Y's parity is stated in the tag too; it must agree.
		if odd := id[64]&1 == 1; odd != (id[0] == 0x07) {
			return nil, fmt.Errorf("%w: hybrid key tag %#x disagrees with the parity of Y", wire.ErrBadPublicKey, id[0])
		}
		u := append([]byte{0x04}, id[1:]...)
		return parseUncompressed(u)
	}
	return nil, fmt.Errorf("%w: %d bytes starting %#x, want 33 bytes (compressed) or 65 (uncompressed)",
		wire.ErrBadPublicKey, len(id), firstByte(id))
}

func parseUncompressed(b []byte) (*secp256k1.PublicKey, error) {
	pub, err := secp256k1.ParsePubKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", wire.ErrBadPublicKey, err)
	}
	return pub, nil
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
