package envelope

import (
	"crypto/sha256"
	"io"

	"golang.org/x/crypto/hkdf"
)

// deriveKey is HKDF-SHA256(ikm = hmacSecret, salt = nil, info = label), 32 bytes:
// the derivation every client key of the quorum extension uses.
func deriveKey(hmacSecret []byte, label string) []byte {
	k := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, hmacSecret, nil, []byte(label)), k); err != nil {
		panic("envelope: HKDF: " + err.Error()) // 32 bytes are far below HKDF's limit
	}
	return k
}
