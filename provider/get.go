package provider

import (
	"context"
	"crypto/rand"

	"google.golang.org/grpc/codes"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// NonceSize is the length of the fresh random nonce sent with each Get and Status.
const NonceSize = 32

// Get returns the client's entries whose keys start with prefix, in key order,
// every one verified.
//
// A server pinned as an extension server (Options.Extension) is asked with
// BoundGet, whose reply MAC also covers the prefix and each value's txid and
// proof, in pages (Options.PageItems) that Get follows to the end, each page's
// MAC binding its start, whether more follow and the generation it was read at
// (a listing cut short is ErrServerHMAC or ErrInvalidReply, never a shorter
// answer). The listing is one snapshot: when a write lands between its pages
// (the generation changes) Get reads it again from the first page, at most
// Options.MaxListingRestarts times, then fails with ErrListingChanged. Its
// UNIMPLEMENTED answer is ErrNotExtension, never a fallback. Any other server is
// asked with the base Get (in the quorum format each value must then be
// a carrier). The reply HMAC must verify (ErrServerHMAC) and the keys must be
// ascending, distinct and under prefix (ErrInvalidReply). Each value's MAC is
// checked (with its txid in the quorum format) and so is its commit proof if it
// has one; values that fail are left out and reported together in a
// *TamperedError, returned alongside the entries that did verify.
func (c *Client) Get(ctx context.Context, prefix string) ([]Entry, error) {
	var kvs []*lsspb.KeyValue
	var err error
	if c.ext {
		kvs, err = c.boundGetPages(ctx, prefix)
	} else {
		kvs, err = c.baseGet(ctx, prefix)
	}
	if err != nil {
		return nil, c.fail("get", err)
	}
	if err := checkListing(prefix, kvs); err != nil {
		return nil, c.fail("get", err)
	}
	entries, tampered := c.openAll(kvs, !c.ext)
	if len(tampered) > 0 {
		return entries, c.fail("get", &TamperedError{Provider: c.name, Keys: tampered})
	}
	return entries, nil
}

// baseGet is the base protocol's Get: one reply, its HMAC bound to a fresh nonce.
func (c *Client) baseGet(ctx context.Context, prefix string) ([]*lsspb.KeyValue, error) {
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	reply, err := c.rpc.Get(ctx, &lsspb.GetRequest{Auth: c.auth, KeyPrefix: prefix, Nonce: nonce})
	if err := c.rpcErr(ctx, err, nil); err != nil {
		return nil, err
	}
	if !wire.Equal(reply.GetHmac(), wire.GetReplyHMAC(c.secret, nonce, reply.GetKvs())) {
		return nil, ErrServerHMAC
	}
	return reply.GetKvs(), nil
}

func newNonce() ([]byte, error) {
	nonce := make([]byte, NonceSize)
	_, err := rand.Read(nonce)
	return nonce, err
}

// rpcErr is rpcError for a call that may have succeeded (nil err).
func (c *Client) rpcErr(ctx context.Context, err error, codeErrs map[codes.Code]error) error {
	if err == nil {
		return nil
	}
	return rpcError(ctx, err, codeErrs)
}

// BaseOnly reports whether the client speaks only the base protocol to this
// server: it is not pinned as an extension server (Options.Extension).
func (c *Client) BaseOnly() bool { return !c.ext }

// Extension reports whether the server is pinned as an extension server.
func (c *Client) Extension() bool { return c.ext }

// Format is the client's value format.
func (c *Client) Format() Format { return c.format }
