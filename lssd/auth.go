package lssd

import (
	"crypto/subtle"
	"sync"

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
	key   *secp256k1.PrivateKey
	cache *secretCache
}

func newAuthenticator(key *secp256k1.PrivateKey, cacheSize int) *authenticator {
	return &authenticator{key: key, cache: newSecretCache(cacheSize)}
}

// missingAuth is the status of a request without an Auth. It must be checked
// explicitly: the generated getters are nil-safe, so a missing Auth would otherwise
// read as an empty client_id and come out UNAUTHENTICATED.
var missingAuth = status.Error(codes.InvalidArgument, "auth missing")

// authenticate checks auth (which must not be nil): client_id must be a valid
// public key (else UNAUTHENTICATED) and the token must be SHA256 of the shared
// secret (else INVALID_ARGUMENT, as the Rust server answers). It returns the shared
// secret.
func (a *authenticator) authenticate(auth *lsspb.Auth) ([]byte, error) {
	id := auth.GetClientId()
	secret, ok := a.cache.get(string(id))
	if !ok {
		pub, err := wire.ParsePublicKey(id)
		if err != nil {
			return nil, status.Errorf(codes.Unauthenticated, "client_id: %v", err)
		}
		secret = wire.SharedSecret(a.key, pub)
		a.cache.put(string(id), secret)
	}
	token := wire.Token(secret)
	if subtle.ConstantTimeCompare(token[:], auth.GetToken()) != 1 {
		return nil, status.Error(codes.InvalidArgument, "token does not match client_id")
	}
	return secret[:], nil
}

// secretCache maps client_id to shared secret, bounded in size. When full it
// evicts an arbitrary entry (Go's map iteration order is randomized), which keeps
// the cache simple and costs an evicted client one ECDH.
type secretCache struct {
	mu  sync.Mutex
	max int
	m   map[string][wire.SecretSize]byte
}

func newSecretCache(max int) *secretCache {
	if max <= 0 {
		max = DefaultSecretCacheSize
	}
	return &secretCache{max: max, m: make(map[string][wire.SecretSize]byte)}
}

func (c *secretCache) get(id string) ([wire.SecretSize]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	return s, ok
}

func (c *secretCache) put(id string, s [wire.SecretSize]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = s
}

func (c *secretCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
