package lsscli

import (
	"context"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/provider"
)

// dial connects to --rpc as key; pinned nil accepts the server's key (init only).
func (g *globals) dial(ctx context.Context, key *secp256k1.PrivateKey, pinned []byte) (*provider.Client, error) {
	addr, err := parseRPC(g.rpc)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := g.tlsConfig(addr)
	if err != nil {
		return nil, err
	}
	return provider.Dial(ctx, provider.Options{
		Addr:      addr,
		ServerID:  pinned,
		TLS:       tlsCfg,
		ClientKey: key,
		// The Rust client's default value format: value HMAC, then ChaCha20,
		// with HMAC secret SHA256(client key) (the provider's default secret).
		Encrypt: true,
	})
}

// dialPinned loads the client key and the pinned server key and connects.
func (g *globals) dialPinned(ctx context.Context) (*provider.Client, error) {
	key, err := clientkey.Load(g.clientKeyPath())
	if err != nil {
		return nil, err
	}
	pinned, err := clientkey.LoadServerKey(g.serverKeyPath())
	if err != nil {
		return nil, err
	}
	return g.dial(ctx, key, pinned)
}
