package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"github.com/lssquorum/lss/proto/lsspb"
)

// Domain separates the extension's MACs so that no message of one kind can be
// replayed as another. 0x01 and 0x02 are the base Put's nonces.
type Domain byte

// The extension's domains, as documented in lss.proto.
const (
	DomainRestoreRequest Domain = 0x03
	DomainRestoreReply   Domain = 0x04
	DomainPrepareRequest Domain = 0x05
	DomainPrepareReply   Domain = 0x06
	DomainCommitRequest  Domain = 0x07
	DomainCommitReply    Domain = 0x08
	DomainFenceRequest   Domain = 0x09
	DomainFenceReply     Domain = 0x0a
	DomainAbortRequest   Domain = 0x0b
	DomainAbortReply     Domain = 0x0c
	DomainStatusReply    Domain = 0x0d
	DomainBoundGetReply  Domain = 0x0e

	DomainExtensionOnlyRequest Domain = 0x0f
	DomainExtensionOnlyReply   Domain = 0x10

	DomainBoundGetPageReply Domain = 0x11
	DomainStatusPageReply   Domain = 0x12

	DomainStatusTxIDsReply       Domain = 0x13
	DomainStatusPendingPageReply Domain = 0x14
)

// extLabel starts every extension MAC so it can never equal a base shared HMAC,
// whose message starts with the 32-byte shared secret.
const extLabel = "lss-ext"

// ExtMAC builds one extension MAC: HMAC-SHA256(shared secret, "lss-ext" || domain ||
// fields), each field length-prefixed (see lss.proto).
type ExtMAC struct {
	h       hash.Hash
	buf     [8]byte
	scratch []byte // reused by String, so keys are not copied one by one
}

// NewExtMAC starts a MAC in domain d.
func NewExtMAC(sharedSecret []byte, d Domain) *ExtMAC {
	m := &ExtMAC{h: hmac.New(sha256.New, sharedSecret)}
	m.h.Write([]byte(extLabel))
	m.h.Write([]byte{byte(d)})
	return m
}

// Bytes adds a length-prefixed byte string.
func (m *ExtMAC) Bytes(b []byte) *ExtMAC {
	binary.BigEndian.PutUint32(m.buf[:4], uint32(len(b)))
	m.h.Write(m.buf[:4])
	m.h.Write(b)
	return m
}

// String adds a length-prefixed string.
func (m *ExtMAC) String(s string) *ExtMAC {
	m.scratch = binary.BigEndian.AppendUint32(m.scratch[:0], uint32(len(s)))
	m.scratch = append(m.scratch, s...)
	m.h.Write(m.scratch)
	return m
}

// Int adds an int64, big-endian.
func (m *ExtMAC) Int(v int64) *ExtMAC {
	binary.BigEndian.PutUint64(m.buf[:], uint64(v))
	m.h.Write(m.buf[:])
	return m
}

// KVs adds a counted list of key-values: for each, key, version, value, txid and
// proof, so that no field of a KeyValue travels unauthenticated.
func (m *ExtMAC) KVs(kvs []*lsspb.KeyValue) *ExtMAC {
	binary.BigEndian.PutUint32(m.buf[:4], uint32(len(kvs)))
	m.h.Write(m.buf[:4])
	for _, kv := range kvs {
		m.String(kv.GetKey()).Int(kv.GetVersion()).Bytes(kv.GetValue()).Bytes(kv.GetTxid()).Bytes(kv.GetProof())
	}
	return m
}

// List adds a counted list of byte strings, each length-prefixed.
func (m *ExtMAC) List(bs [][]byte) *ExtMAC {
	binary.BigEndian.PutUint32(m.buf[:4], uint32(len(bs)))
	m.h.Write(m.buf[:4])
	for _, b := range bs {
		m.Bytes(b)
	}
	return m
}

// Bool adds a flag as an int64, 1 for true and 0 for false.
func (m *ExtMAC) Bool(b bool) *ExtMAC {
	if b {
		return m.Int(1)
	}
	return m.Int(0)
}

// Sum returns the MAC.
func (m *ExtMAC) Sum() []byte { return m.h.Sum(nil) }

// Equal compares two MACs in constant time.
func Equal(a, b []byte) bool { return hmac.Equal(a, b) }
