package provider

import (
	"context"
	"fmt"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Put seals kvs for a plain put (Seal) and writes them atomically. A refusal by
// the version rule is a *ConflictError. Success is confirmed only by a verified
// reply HMAC (ErrServerHMAC otherwise).
func (c *Client) Put(ctx context.Context, kvs []KV) error {
	return c.put(ctx, c.Seal(kvs))
}

// PutEntries writes entries already sealed (by this client's Seal or SealTx, or
// read from another provider): Stored is sent as is. In the quorum format to a
// server not pinned as an extension server, each entry travels in a carrier with
// its TxID and Proof, so a stock provider keeps them too. An extension server's
// base Put has no place for them: entries carrying a TxID or Proof are refused
// (use Restore, which stores them).
func (c *Client) PutEntries(ctx context.Context, es []Entry) error {
	return c.put(ctx, es)
}

func (c *Client) put(ctx context.Context, es []Entry) error {
	kvs, err := c.sortedKVs(es, false, c.carried())
	if err != nil {
		return c.fail("put", err)
	}
	req := &lsspb.PutRequest{Auth: c.auth, Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)}
	reply, err := c.rpc.Put(ctx, req)
	if err != nil {
		return c.fail("put", rpcError(ctx, err, nil))
	}
	if reply.GetSuccess() {
		if !wire.Equal(reply.GetHmac(), wire.PutReplyHMAC(c.secret, kvs)) {
			return c.fail("put", ErrServerHMAC)
		}
		return nil
	}
	// The base protocol does not authenticate a conflict reply: it tells the
	// caller what the server claims to hold, and that nothing was confirmed.
	if len(reply.GetConflicts()) == 0 {
		return c.fail("put", fmt.Errorf("%w: put refused without conflicts", ErrInvalidReply))
	}
	reserved := make(map[string][]byte)
	for _, r := range reply.GetReservations() {
		reserved[r.GetStored().GetKey()] = r.GetReservedBy()
	}
	return c.fail("put", &ConflictError{Provider: c.name, Conflicts: c.conflictsOf(reply.GetConflicts(), reserved, true)})
}
