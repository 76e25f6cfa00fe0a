package provider

import (
	"context"
	"crypto/rand"
	"errors"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// NonceSize is the length of the fresh random nonce sent with each Get and Status.
const NonceSize = 32

// Get returns the client's entries whose keys start with prefix, in key order,
// every one verified.
//
// It uses BoundGet, whose reply HMAC also covers the prefix; a server that answers
// Unimplemented is remembered as base-only and asked with the base Get from then
// on, unless Options.RequireExtension is set. The reply HMAC must verify
// (ErrServerHMAC) and the keys must be ascending, distinct and under prefix
// (ErrInvalidReply). Values whose value HMAC fails are left out and reported
// together in a *TamperedError, returned alongside the entries that did verify.
func (c *Client) Get(ctx context.Context, prefix string) ([]Entry, error) {
	nonce := make([]byte, NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, c.fail("get", err)
	}
	req := &lsspb.GetRequest{Auth: c.auth, KeyPrefix: prefix, Nonce: nonce}

	var reply *lsspb.GetReply
	bound := !c.baseOnly.Load()
	if bound {
		var err error
		reply, err = c.rpc.BoundGet(ctx, req)
		if err != nil {
			err = rpcError(ctx, err, extensionCodes)
			if !errors.Is(err, ErrNotSupported) || c.requireExt {
				return nil, c.fail("get", err)
			}
			c.baseOnly.Store(true)
			bound = false
		}
	}
	if !bound {
		var err error
		reply, err = c.rpc.Get(ctx, req)
		if err != nil {
			return nil, c.fail("get", rpcError(ctx, err, nil))
		}
	}

	var want []byte
	if bound {
		want = wire.BoundGetReplyMAC(c.secret, prefix, nonce, reply.GetKvs())
	} else {
		want = wire.GetReplyHMAC(c.secret, nonce, reply.GetKvs())
	}
	if !wire.Equal(reply.GetHmac(), want) {
		return nil, c.fail("get", ErrServerHMAC)
	}
	if err := checkListing(prefix, reply.GetKvs()); err != nil {
		return nil, c.fail("get", err)
	}
	entries, tampered := c.openAll(reply.GetKvs())
	if len(tampered) > 0 {
		return entries, c.fail("get", &TamperedError{Provider: c.name, Keys: tampered})
	}
	return entries, nil
}

// BaseOnly reports whether the server has been seen not to implement the
// extension's BoundGet, so Gets use the base protocol.
func (c *Client) BaseOnly() bool { return c.baseOnly.Load() }
