package wire

import (
	"fmt"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
)

// benchPut is a provider-load transaction as it goes on the wire: 64 keys whose
// stored values are 128 bytes plus their 32-byte value HMAC.
func benchPut(b *testing.B) (secret []byte, kvs []*lsspb.KeyValue) {
	b.Helper()
	hmacSecret := make([]byte, SecretSize)
	kvs = make([]*lsspb.KeyValue, 64)
	for i := range kvs {
		key := fmt.Sprintf("w%03d/r%06d/k%02d", 7, 42, i)
		kvs[i] = &lsspb.KeyValue{Key: key, Version: 1, Value: SealValue(hmacSecret, key, 1, make([]byte, 128))}
	}
	shared := make([]byte, SecretSize)
	for i := range shared {
		shared[i] = byte(i)
	}
	return shared, kvs
}

// BenchmarkPutRequestHMAC is the shared HMAC a client computes over a 64-key put
// and a server checks (and computes again for its reply).
func BenchmarkPutRequestHMAC(b *testing.B) {
	secret, kvs := benchPut(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(PutRequestHMAC(secret, kvs)) != SecretSize {
			b.Fatal("short HMAC")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64, "ns/key")
}

// BenchmarkPrepareRequestMAC is the same for the atomic commit's Prepare, whose
// MAC is domain-separated and also covers the txid.
func BenchmarkPrepareRequestMAC(b *testing.B) {
	secret, kvs := benchPut(b)
	txid := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		if len(PrepareRequestMAC(secret, txid, kvs, nil, 0, nil)) != SecretSize {
			b.Fatal("short MAC")
		}
	}
}

// BenchmarkSealValues64 is the per-value HMAC a client computes for each of the
// 64 values of a put.
func BenchmarkSealValues64(b *testing.B) {
	secret := make([]byte, SecretSize)
	plain := make([]byte, 128)
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprintf("w%03d/r%06d/k%02d", 7, 42, i)
	}
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, k := range keys {
				if len(SealValue(secret, k, 1, plain)) != len(plain)+SecretSize {
					b.Fatal("bad sealed length")
				}
			}
		}
	})
	b.Run("reused", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := NewValueMAC(secret)
			for _, k := range keys {
				if len(m.Seal(k, 1, plain)) != len(plain)+SecretSize {
					b.Fatal("bad sealed length")
				}
			}
		}
	})
}

// BenchmarkSharedSecret is the ECDH a server would do per request without its
// cache of each client's shared secret.
func BenchmarkSharedSecret(b *testing.B) {
	priv, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		b.Fatal(err)
	}
	other, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		b.Fatal(err)
	}
	pub := other.PubKey()
	b.ReportAllocs()
	for b.Loop() {
		_ = SharedSecret(priv, pub)
	}
}
