package wire

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// PublicKeySize is the length of a compressed secp256k1 public key, which is what a
// client_id and a server_id are.
const PublicKeySize = secp256k1.PubKeyBytesLenCompressed

// SecretSize is the length of a shared secret, a token and an HMAC secret.
const SecretSize = sha256.Size

// ErrBadPublicKey is returned when bytes are not a valid compressed public key.
var ErrBadPublicKey = errors.New("not a valid compressed secp256k1 public key")

// ParsePublicKey parses a 33-byte compressed public key (a client_id or server_id).
// Uncompressed encodings are refused: identities are compared as bytes, so each key
// must have exactly one encoding.
func ParsePublicKey(b []byte) (*secp256k1.PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadPublicKey, len(b), PublicKeySize)
	}
	pub, err := secp256k1.ParsePubKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPublicKey, err)
	}
	return pub, nil
}

// PublicID is the 33-byte compressed public key of priv: a client_id or server_id.
func PublicID(priv *secp256k1.PrivateKey) []byte {
	return priv.PubKey().SerializeCompressed()
}

// SharedSecret is SHA256 of the compressed ECDH point priv·pub (parity byte then X),
// which is libsecp256k1's default ECDH output. It is deliberately not the raw X
// coordinate that dcrd's GenerateSharedSecret returns.
func SharedSecret(priv *secp256k1.PrivateKey, pub *secp256k1.PublicKey) [SecretSize]byte {
	var point, result secp256k1.JacobianPoint
	pub.AsJacobian(&point)
	secp256k1.ScalarMultNonConst(&priv.Key, &point, &result)
	result.ToAffine()
	shared := secp256k1.NewPublicKey(&result.X, &result.Y)
	return sha256.Sum256(shared.SerializeCompressed())
}

// Token is SHA256(shared secret): it authenticates a client without letting its
// holder compute HMACs.
func Token(sharedSecret [SecretSize]byte) [SecretSize]byte {
	return sha256.Sum256(sharedSecret[:])
}

// CLIHMACSecret is the value-HMAC secret that lss-cli (Rust and ours) derives from
// the client key: SHA256(client private key).
func CLIHMACSecret(priv *secp256k1.PrivateKey) [SecretSize]byte {
	return sha256.Sum256(priv.Serialize())
}
