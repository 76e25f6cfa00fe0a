package provider

import (
	"context"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Restore is the extension's forward-only repair: the server stores each entry
// whose version is greater than the one it holds (or whose key it lacks) and never
// lowers a version. Stored is sent as is, so entries read from another provider
// are copied byte for byte. It returns the keys written and, for the others, what
// the server keeps. The reply is verified against the request's MAC. A stock
// server gives ErrNotSupported.
func (c *Client) Restore(ctx context.Context, es []Entry) (applied []string, kept []Conflict, err error) {
	kvs, err := sortedKVs(es)
	if err != nil {
		return nil, nil, c.fail("restore", err)
	}
	reqMAC := wire.RestoreRequestMAC(c.secret, kvs)
	reply, err := c.rpc.Restore(ctx, &lsspb.RestoreRequest{Auth: c.auth, Kvs: kvs, Hmac: reqMAC})
	if err != nil {
		return nil, nil, c.fail("restore", rpcError(ctx, err, extensionCodes))
	}
	want := wire.RestoreReplyMAC(c.secret, reqMAC, reply.GetApplied(), reply.GetKept())
	if !wire.Equal(reply.GetHmac(), want) {
		return nil, nil, c.fail("restore", ErrServerHMAC)
	}
	return reply.GetApplied(), c.conflictsOf(reply.GetKept(), nil), nil
}
