package provider

import (
	"context"
	"fmt"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Restore is the extension's forward-only repair: the server stores each entry
// whose version is greater than the one it holds (or whose key it lacks) and never
// lowers a version. Stored, TxID and Proof are sent as they are, so entries read
// from another provider are copied byte for byte with their commit proofs.
// Entries sharing a TxID are one transaction's writes, which the server applies
// all or nothing, and which settle that transaction if the server holds it
// prepared (docs/protocol.md). It returns the keys written and, for the others,
// what the server keeps. The reply is verified against the request's MAC. A
// server not pinned as an extension server gives ErrNotSupported for
// UNIMPLEMENTED, a pinned one ErrNotExtension.
func (c *Client) Restore(ctx context.Context, es []Entry) (applied []string, kept []Conflict, err error) {
	kvs, err := c.sortedKVs(es, true, false)
	if err != nil {
		return nil, nil, c.fail("restore", err)
	}
	reqMAC := wire.RestoreRequestMAC(c.secret, kvs)
	reply, err := c.rpc.Restore(ctx, &lsspb.RestoreRequest{Auth: c.auth, Kvs: kvs, Hmac: reqMAC})
	if err != nil {
		return nil, nil, c.fail("restore", rpcError(ctx, err, c.extCodes(nil)))
	}
	want := wire.RestoreReplyMAC(c.secret, reqMAC, reply.GetApplied(), reply.GetKept(), reply.GetReservedBy())
	if !wire.Equal(reply.GetHmac(), want) {
		return nil, nil, c.fail("restore", ErrServerHMAC)
	}
	if n := len(reply.GetReservedBy()); n != 0 && n != len(reply.GetKept()) {
		return nil, nil, c.fail("restore", fmt.Errorf("%w: %d reserved_by for %d kept keys", ErrInvalidReply, n, len(reply.GetKept())))
	}
	reserved := make(map[string][]byte)
	for i, txid := range reply.GetReservedBy() {
		if len(txid) > 0 {
			reserved[reply.GetKept()[i].GetKey()] = txid
		}
	}
	return reply.GetApplied(), c.conflictsOf(reply.GetKept(), reserved, false), nil
}
