package wire

import (
	"crypto/sha256"
	"io"

	"golang.org/x/crypto/hkdf"
)

// DerivedKeySize is the length of every key DeriveKey returns.
const DerivedKeySize = 32

// The HKDF labels of the keys a quorum client derives from its HMAC secret. Each
// key has one job, so a MAC made with one can never be accepted as another.
const (
	// LabelValueMACv2 keys the v2 value MAC (ValueMACv2).
	LabelValueMACv2 = "lss-quorum value-mac v2"
	// LabelCommitProof keys commit proofs (CommitProof).
	LabelCommitProof = "lss-quorum commit-proof v2"
	// LabelPrepareSeal keys prepare seals (PrepareSeal).
	LabelPrepareSeal = "lss-quorum prepare-seal v2"
	// LabelValueEncryption keys value encryption.
	LabelValueEncryption = "lss-quorum value-encryption v1"
)

// DeriveKey is HKDF-SHA256(ikm = hmacSecret, salt = nil, info = label), 32 bytes.
// It lets one client secret key several MACs that cannot stand in for each other.
func DeriveKey(hmacSecret []byte, label string) []byte {
	out := make([]byte, DerivedKeySize)
	if _, err := io.ReadFull(hkdf.New(sha256.New, hmacSecret, nil, []byte(label)), out); err != nil {
		// HKDF-SHA256 can produce up to 255*32 bytes; 32 cannot fail.
		panic("wire: hkdf: " + err.Error())
	}
	return out
}
