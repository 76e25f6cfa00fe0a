package lsscli

import (
	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/proto/wire"
)

// recordSent refuses to send a value for (key, version) if a different one was
// sent for it before, and otherwise records this one, before it is encrypted and
// sent. The Rust value format that lss-cli keeps derives its ChaCha20 nonce from
// the key and version alone, so two different values for one pair would share a
// keystream (see clientkey.SentValues). The record lives in --datadir next to
// client-key, because lss-cli runs once per put: a retry is a new process.
func (g *globals) recordSent(key string, version int64, value []byte) error {
	ck, err := clientkey.Load(g.clientKeyPath())
	if err != nil {
		return err
	}
	secret := wire.CLIHMACSecret(ck)
	return clientkey.SentValues{Dir: g.datadir, HMACSecret: secret[:]}.Record(key, version, value)
}
