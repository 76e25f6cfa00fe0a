package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"

	"github.com/lssquorum/lss/proto/lsspb"
)

// Labels at the start of the commit proof's and the prepare seal's inputs.
const (
	commitProofLabel = "lss-commit-v2"
	prepareSealLabel = "lss-prepare-seal-v2"
)

// CommitProofSize and PrepareSealSize are the lengths of a proof and a seal.
const (
	CommitProofSize = sha256.Size
	PrepareSealSize = sha256.Size
)

// CommitProof is the client's statement that the transaction txid is decided
// committed and wrote stored (the sealed value bytes as sent to the provider) at
// key and version:
//
//	HMAC-SHA256(kProof, "lss-commit-v2" || u32 len(txid) || txid ||
//	            u32 len(key) || key || version BE8 || SHA256(stored))
//
// kProof is DeriveKey(hmacSecret, LabelCommitProof). Only a client that observed
// the decision issues it; a provider holding only a prepared value cannot make one.
func CommitProof(kProof, txid []byte, key string, version int64, stored []byte) []byte {
	digest := sha256.Sum256(stored)
	b := make([]byte, 0, len(commitProofLabel)+4+len(txid)+4+len(key)+8+len(digest))
	b = append(b, commitProofLabel...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(txid)))
	b = append(b, txid...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	b = append(b, key...)
	b = binary.BigEndian.AppendUint64(b, uint64(version))
	b = append(b, digest[:]...)
	mac := hmac.New(sha256.New, kProof)
	mac.Write(b)
	return mac.Sum(nil)
}

// VerifyCommitProof reports, in constant time, whether proof is the CommitProof
// of (txid, key, version, stored).
func VerifyCommitProof(kProof, txid []byte, key string, version int64, stored, proof []byte) bool {
	return hmac.Equal(proof, CommitProof(kProof, txid, key, version, stored))
}

// PrepareSeal authenticates what a Prepare recorded: the transaction's
// participants, its write quorum w and its entries (kvs in the order sent, Value
// being the stored bytes):
//
//	HMAC-SHA256(kSeal, "lss-prepare-seal-v2" || u32 len(txid) || txid ||
//	            u32 count || each participant as u32 len || bytes || w BE8 ||
//	            u32 count || for each kv: u32 len(key) || key || version BE8 ||
//	            SHA256(value))
//
// kSeal is DeriveKey(hmacSecret, LabelPrepareSeal). The server stores it opaque;
// recovery counts only prepared views whose seal verifies, and two views agree
// iff their seals are equal. Only key, version and value of kvs are covered.
func PrepareSeal(kSeal, txid []byte, participants [][]byte, w int, kvs []*lsspb.KeyValue) []byte {
	mac := hmac.New(sha256.New, kSeal)
	b := append(make([]byte, 0, 128), prepareSealLabel...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(txid)))
	b = append(b, txid...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(participants)))
	for _, p := range participants {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(int64(w)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(kvs)))
	mac.Write(b)
	for _, kv := range kvs {
		b = binary.BigEndian.AppendUint32(b[:0], uint32(len(kv.GetKey())))
		b = append(b, kv.GetKey()...)
		b = binary.BigEndian.AppendUint64(b, uint64(kv.GetVersion()))
		digest := sha256.Sum256(kv.GetValue())
		b = append(b, digest[:]...)
		mac.Write(b)
	}
	return mac.Sum(nil)
}

// VerifyPrepareSeal reports, in constant time, whether seal is the PrepareSeal
// of the given transaction.
func VerifyPrepareSeal(kSeal, txid []byte, participants [][]byte, w int, kvs []*lsspb.KeyValue, seal []byte) bool {
	return hmac.Equal(seal, PrepareSeal(kSeal, txid, participants, w, kvs))
}

// Certifier holds the keys a quorum client derives once from its HMAC secret:
// the v2 value MAC key, the commit proof key and the prepare seal key. It is
// immutable and safe for concurrent use; each ValueMAC it returns is not.
type Certifier struct {
	valueKey, proofKey, sealKey []byte
}

// NewCertifier derives the keys of hmacSecret.
func NewCertifier(hmacSecret []byte) *Certifier {
	return &Certifier{
		valueKey: DeriveKey(hmacSecret, LabelValueMACv2),
		proofKey: DeriveKey(hmacSecret, LabelCommitProof),
		sealKey:  DeriveKey(hmacSecret, LabelPrepareSeal),
	}
}

// ValueMAC returns a fresh v2 value MAC (not safe for concurrent use).
func (c *Certifier) ValueMAC() *ValueMACv2 { return newValueMACv2Key(c.valueKey) }

// Proof is CommitProof under the client's proof key.
func (c *Certifier) Proof(txid []byte, key string, version int64, stored []byte) []byte {
	return CommitProof(c.proofKey, txid, key, version, stored)
}

// VerifyProof is VerifyCommitProof under the client's proof key.
func (c *Certifier) VerifyProof(txid []byte, key string, version int64, stored, proof []byte) bool {
	return VerifyCommitProof(c.proofKey, txid, key, version, stored, proof)
}

// PrepareSeal is PrepareSeal under the client's seal key.
func (c *Certifier) PrepareSeal(txid []byte, participants [][]byte, w int, kvs []*lsspb.KeyValue) []byte {
	return PrepareSeal(c.sealKey, txid, participants, w, kvs)
}

// VerifyPrepareSeal is VerifyPrepareSeal under the client's seal key.
func (c *Certifier) VerifyPrepareSeal(txid []byte, participants [][]byte, w int, kvs []*lsspb.KeyValue, seal []byte) bool {
	return VerifyPrepareSeal(c.sealKey, txid, participants, w, kvs, seal)
}
