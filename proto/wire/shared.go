package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"

	"github.com/lssquorum/lss/proto/lsspb"
)

// Nonces of the base protocol's Put HMACs.
var (
	PutRequestNonce = []byte{0x01}
	PutReplyNonce   = []byte{0x02}
)

// SharedHMAC is the base protocol's HMAC-SHA256 keyed with the shared secret over
// shared_secret || nonce || for each kv: key || version BE8 || value.
// The concatenation has no lengths, so it is ambiguous; the extension's MACs are not.
func SharedHMAC(sharedSecret []byte, nonce []byte, kvs []*lsspb.KeyValue) []byte {
	mac := hmac.New(sha256.New, sharedSecret)
	mac.Write(sharedSecret)
	mac.Write(nonce)
	// One scratch buffer for every key and version: this runs on each put and get
	// over up to thousands of entries.
	var buf []byte
	for _, kv := range kvs {
		buf = append(buf[:0], kv.GetKey()...)
		buf = binary.BigEndian.AppendUint64(buf, uint64(kv.GetVersion()))
		mac.Write(buf)
		mac.Write(kv.GetValue())
	}
	return mac.Sum(nil)
}

// PutRequestHMAC is the hmac a client sends with a Put.
func PutRequestHMAC(sharedSecret []byte, kvs []*lsspb.KeyValue) []byte {
	return SharedHMAC(sharedSecret, PutRequestNonce, kvs)
}

// PutReplyHMAC is the hmac a server returns with a successful Put.
func PutReplyHMAC(sharedSecret []byte, kvs []*lsspb.KeyValue) []byte {
	return SharedHMAC(sharedSecret, PutReplyNonce, kvs)
}

// GetReplyHMAC is the hmac a server returns with a base Get.
func GetReplyHMAC(sharedSecret []byte, nonce []byte, kvs []*lsspb.KeyValue) []byte {
	return SharedHMAC(sharedSecret, nonce, kvs)
}
