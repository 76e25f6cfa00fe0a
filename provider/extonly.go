package provider

import (
	"context"
	"crypto/rand"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// SetExtensionOnly switches this client's namespace on the server to
// extension-only, for good: the server then refuses the base Get and Put for it,
// which closes the base Get's MAC oracle (lss.proto, ExtensionOnlyRequest). Only
// call it once every client of the namespace reads and writes through the
// extension (a quorum whose providers are all pinned extension-capable): a Rust
// lss-cli or base-protocol client loses access to the namespace. A server
// without the extension answers ErrNotSupported; the reply is verified against a
// fresh nonce.
func (c *Client) SetExtensionOnly(ctx context.Context) error {
	nonce := make([]byte, NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return c.fail("set extension-only", err)
	}
	req := &lsspb.ExtensionOnlyRequest{Auth: c.auth, Nonce: nonce, Hmac: wire.ExtensionOnlyRequestMAC(c.secret, nonce)}
	reply, err := c.rpc.SetExtensionOnly(ctx, req)
	if err != nil {
		return c.fail("set extension-only", rpcError(ctx, err, extensionCodes))
	}
	if !wire.Equal(reply.GetHmac(), wire.ExtensionOnlyReplyMAC(c.secret, req.Hmac)) {
		return c.fail("set extension-only", ErrServerHMAC)
	}
	return nil
}
