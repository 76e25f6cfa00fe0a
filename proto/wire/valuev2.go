package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

// valueV2Label starts the v2 value MAC's input, so it can never be read as any
// other MAC's input under the same key.
const valueV2Label = "lss-value-v2"

// ValueMACv2 computes the quorum format's value MAC: unlike the base format's, it
// length-prefixes the key and the payload and binds the txid that wrote the value,
// so a provider can neither move a value to another key nor present one
// transaction's value as another's. Stored value = payload || mac, with
//
//	mac = HMAC-SHA256(DeriveKey(hmacSecret, LabelValueMACv2), "lss-value-v2" ||
//	      u32 len(key) || key || version BE8 || u32 len(txid) || txid ||
//	      u32 len(payload) || payload)
//
// txid is empty for a plain (non-transactional) put. It reuses one HMAC state and
// is not safe for concurrent use.
type ValueMACv2 struct {
	mac hash.Hash
	buf []byte
}

// NewValueMACv2 returns a ValueMACv2 keyed with the key derived from hmacSecret.
func NewValueMACv2(hmacSecret []byte) *ValueMACv2 {
	return newValueMACv2Key(DeriveKey(hmacSecret, LabelValueMACv2))
}

// newValueMACv2Key returns a ValueMACv2 keyed with an already derived key.
func newValueMACv2Key(kValue []byte) *ValueMACv2 {
	return &ValueMACv2{mac: hmac.New(sha256.New, kValue)}
}

// sum appends the MAC of (key, version, txid, payload) to dst.
func (v *ValueMACv2) sum(dst []byte, key string, version int64, txid, payload []byte) []byte {
	v.mac.Reset()
	b := append(v.buf[:0], valueV2Label...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	b = append(b, key...)
	b = binary.BigEndian.AppendUint64(b, uint64(version))
	b = binary.BigEndian.AppendUint32(b, uint32(len(txid)))
	b = append(b, txid...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	v.buf = b
	v.mac.Write(b)
	v.mac.Write(payload)
	return v.mac.Sum(dst)
}

// Seal returns payload || mac, the stored form of a value in the quorum format.
func (v *ValueMACv2) Seal(key string, version int64, txid, payload []byte) []byte {
	out := make([]byte, 0, len(payload)+ValueHMACSize)
	return v.sum(append(out, payload...), key, version, txid, payload)
}

// Open checks and strips the MAC of a stored value. The error wraps ErrValueHMAC.
// The returned payload shares stored's memory.
func (v *ValueMACv2) Open(key string, version int64, txid, stored []byte) ([]byte, error) {
	if len(stored) < ValueHMACSize {
		return nil, fmt.Errorf("%w: key %q version %d: value of %d bytes is shorter than its MAC",
			ErrValueHMAC, key, version, len(stored))
	}
	payload, got := stored[:len(stored)-ValueHMACSize], stored[len(stored)-ValueHMACSize:]
	var want [ValueHMACSize]byte
	if !hmac.Equal(got, v.sum(want[:0], key, version, txid, payload)) {
		return nil, fmt.Errorf("%w: key %q version %d txid %x (v2)", ErrValueHMAC, key, version, txid)
	}
	return payload, nil
}
