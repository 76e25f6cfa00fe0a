package envelope

import (
	"testing"
)

// BenchmarkEncrypt2KiB and BenchmarkDecrypt2KiB are the cost per 2 KiB value, the
// size of a signer's channel state entry; the µs/value metric is what a put or a
// get pays per value on top of its MACs.
func BenchmarkEncrypt2KiB(b *testing.B) {
	c := newCipher(b, secret(1), Options{})
	plain := make([]byte, 2048)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		c.Encrypt("w007/r000042/k01", 1, plain)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/value")
}

func BenchmarkDecrypt2KiB(b *testing.B) {
	c := newCipher(b, secret(1), Options{})
	env := c.Encrypt("w007/r000042/k01", 1, make([]byte, 2048))
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decrypt("w007/r000042/k01", 1, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/value")
}
