package quorum

import "github.com/lssquorum/lss/provider"

// plain decrypts, in place, the values of es read from a provider directly, as
// the quorum client's Get does (values stored unencrypted are left as they are).
func (a *atomicNet) plain(es []provider.Entry) []provider.Entry {
	a.t.Helper()
	cipher, err := newCipher(Config{HMACSecret: a.client.cfg.HMACSecret, ReadLegacyPlaintext: true})
	if err != nil {
		a.t.Fatal(err)
	}
	for i, e := range es {
		if es[i].Value, err = cipher.Decrypt(e.Key, e.Version, e.Value); err != nil {
			a.t.Fatal(err)
		}
	}
	return es
}
