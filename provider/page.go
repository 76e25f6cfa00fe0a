package provider

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Paging (docs/protocol.md, "Paging"). The client asks an extension server for
// pages of at most pageItems entries and follows them until a page says no more
// follow, within the call's context and at most maxPages pages. Every page's MAC
// binds the request's start and limit and the "more" flag, so a page cut short, a
// dropped "more" or a page from another request fails the MAC; a page that does
// not advance past its start (a server that keeps saying "more") is an invalid
// reply. A BoundGet listing is one snapshot: its pages must all carry one
// generation, or it is read again from the start (see boundGetPages). A server
// that does not page (an lssd from before paging) answers the first request with
// the whole listing under the unpaged MAC, which says it is complete: that is
// accepted as the whole listing.

// boundGetPages reads every key-value under prefix with paged BoundGets, as one
// snapshot: every page carries the generation of the server's state it was read
// at (covered by the page's MAC), and a listing whose pages do not all carry the
// same one is started again from the first page, at most c.restarts times.
func (c *Client) boundGetPages(ctx context.Context, prefix string) ([]*lsspb.KeyValue, error) {
	for try := 0; ; try++ {
		kvs, changed, err := c.boundGetListing(ctx, prefix)
		if err != nil || !changed {
			return kvs, err
		}
		if try == c.restarts {
			return nil, fmt.Errorf("%w: the listing of prefix %q changed under %d restarts", ErrListingChanged, prefix, c.restarts)
		}
	}
}

// boundGetListing follows the pages of one listing from the first. changed
// reports a page read at another generation than the first page: the listing
// is not one snapshot and is dropped.
func (c *Client) boundGetListing(ctx context.Context, prefix string) (all []*lsspb.KeyValue, changed bool, err error) {
	var after *string
	var gen []byte
	for page := 0; ; page++ {
		if page == c.maxPages {
			return nil, false, fmt.Errorf("%w: the listing of prefix %q did not end within %d pages of %d keys",
				ErrInvalidReply, prefix, c.maxPages, c.pageItems)
		}
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		nonce, err := newNonce()
		if err != nil {
			return nil, false, err
		}
		reply, err := c.rpc.BoundGet(ctx, &lsspb.GetRequest{Auth: c.auth, KeyPrefix: prefix, Nonce: nonce,
			PageLimit: c.pageItems, StartAfter: after})
		if err := c.rpcErr(ctx, err, c.extCodes(nil)); err != nil {
			return nil, false, err
		}
		kvs, more, g := reply.GetKvs(), reply.GetMore(), reply.GetGeneration()
		if !wire.Equal(reply.GetHmac(), wire.BoundGetPageReplyMAC(c.secret, prefix, nonce, after, c.pageItems, kvs, more, g)) {
			if page == 0 && !more && wire.Equal(reply.GetHmac(), wire.BoundGetReplyMAC(c.secret, prefix, nonce, kvs)) {
				return kvs, false, nil // a server that does not page: the whole listing
			}
			return nil, false, fmt.Errorf("%w (page %d of prefix %q)", ErrServerHMAC, page+1, prefix)
		}
		if err := c.checkPage(page, len(kvs), more); err != nil {
			return nil, false, err
		}
		if after != nil && len(kvs) > 0 && kvs[0].GetKey() <= *after {
			return nil, false, fmt.Errorf("%w: page %d starts at key %q, not after %q: the listing does not advance",
				ErrInvalidReply, page+1, kvs[0].GetKey(), *after)
		}
		if page == 0 {
			gen = g
		} else if !bytes.Equal(g, gen) {
			return nil, true, nil
		}
		all = append(all, kvs...)
		if !more {
			return all, false, nil
		}
		last := kvs[len(kvs)-1].GetKey()
		after = &last
	}
}

// statusPages reads every transaction record with paged Status calls, or with
// pendingOnly the prepared ones only. A server from before pending_only answers
// whole-listing pages (MAC 0x12, which does not cover the flag): they are
// accepted, being authenticated, and narrowed here.
func (c *Client) statusPages(ctx context.Context, pendingOnly bool) ([]*lsspb.Transaction, error) {
	var all []*lsspb.Transaction
	var after []byte
	for page := 0; ; page++ {
		if page == c.maxPages {
			return nil, fmt.Errorf("%w: the transaction records did not end within %d pages of %d",
				ErrInvalidReply, c.maxPages, c.pageItems)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		nonce, err := newNonce()
		if err != nil {
			return nil, err
		}
		reply, err := c.rpc.Status(ctx, &lsspb.StatusRequest{Auth: c.auth, Nonce: nonce, StartAfter: after, PageLimit: c.pageItems,
			PendingOnly: pendingOnly})
		if err != nil {
			return nil, rpcError(ctx, err, c.extCodes(nil))
		}
		txs, more := reply.GetTransactions(), reply.GetMore()
		narrowed := false
		switch h := reply.GetHmac(); {
		case pendingOnly && wire.Equal(h, wire.StatusPendingPageReplyMAC(c.secret, nonce, after, c.pageItems, txs, more)):
			narrowed = true
		case wire.Equal(h, wire.StatusPageReplyMAC(c.secret, nonce, after, c.pageItems, txs, more)):
		case page == 0 && !more && wire.Equal(h, wire.StatusReplyMAC(c.secret, nonce, txs)):
			return narrowPending(txs, pendingOnly), nil // a server that does not page: every record
		default:
			return nil, fmt.Errorf("%w (Status page %d)", ErrServerHMAC, page+1)
		}
		if err := c.checkPage(page, len(txs), more); err != nil {
			return nil, err
		}
		if len(after) > 0 && len(txs) > 0 && bytes.Compare(txs[0].GetTxid(), after) <= 0 {
			return nil, fmt.Errorf("%w: Status page %d starts at txid %x, not after %x: the listing does not advance",
				ErrInvalidReply, page+1, txs[0].GetTxid(), after)
		}
		if narrowed {
			for _, tx := range txs {
				if tx.GetState() != lsspb.TxState_TX_PREPARED {
					return nil, fmt.Errorf("%w: Status page %d of the prepared transactions lists txid %x as %v",
						ErrInvalidReply, page+1, tx.GetTxid(), tx.GetState())
				}
			}
		}
		all = append(all, narrowPending(txs, pendingOnly)...)
		if !more {
			return all, nil
		}
		after = txs[len(txs)-1].GetTxid()
	}
}

// sortedHas says whether the sorted ids hold id.
func sortedHas(ids [][]byte, id []byte) bool {
	_, found := slices.BinarySearchFunc(ids, id, bytes.Compare)
	return found
}

// narrowPending keeps the prepared transactions of txs when pendingOnly.
func narrowPending(txs []*lsspb.Transaction, pendingOnly bool) []*lsspb.Transaction {
	if !pendingOnly {
		return txs
	}
	return slices.DeleteFunc(slices.Clone(txs), func(tx *lsspb.Transaction) bool {
		return tx.GetState() != lsspb.TxState_TX_PREPARED
	})
}

// statusOfTxIDs reads the records of txids (sorted, distinct) with Status calls
// naming at most wire.MaxStatusTxIDs of them each. A server from before
// narrowing answers the whole listing in one reply (MAC 0x0d): accepted, being
// authenticated and complete, and narrowed here. A reply too large for the
// server's max reply size (large prepared records, or an older server's whole
// listing) is read as the paged whole listing instead, and narrowed here.
func (c *Client) statusOfTxIDs(ctx context.Context, txids [][]byte) ([]*lsspb.Transaction, error) {
	var all []*lsspb.Transaction
	for chunk := range slices.Chunk(txids, wire.MaxStatusTxIDs) {
		nonce, err := newNonce()
		if err != nil {
			return nil, err
		}
		reply, err := c.rpc.Status(ctx, &lsspb.StatusRequest{Auth: c.auth, Nonce: nonce, Txids: chunk})
		if status.Code(err) == codes.ResourceExhausted {
			every, err := c.statusPages(ctx, false)
			if err != nil {
				return nil, err
			}
			return slices.DeleteFunc(every, func(tx *lsspb.Transaction) bool { return !sortedHas(txids, tx.GetTxid()) }), nil
		}
		if err != nil {
			return nil, rpcError(ctx, err, c.extCodes(nil))
		}
		txs := reply.GetTransactions()
		asked := func(id []byte) bool { return sortedHas(chunk, id) }
		switch {
		case wire.Equal(reply.GetHmac(), wire.StatusTxIDsReplyMAC(c.secret, nonce, chunk, txs)):
			for _, tx := range txs {
				if !asked(tx.GetTxid()) {
					return nil, fmt.Errorf("%w: Status of %d txids lists txid %x, which was not asked for",
						ErrInvalidReply, len(chunk), tx.GetTxid())
				}
			}
		case !reply.GetMore() && wire.Equal(reply.GetHmac(), wire.StatusReplyMAC(c.secret, nonce, txs)):
			txs = slices.DeleteFunc(slices.Clone(txs), func(tx *lsspb.Transaction) bool { return !asked(tx.GetTxid()) })
		default:
			return nil, fmt.Errorf("%w (Status of %d txids)", ErrServerHMAC, len(chunk))
		}
		all = append(all, txs...)
	}
	return all, nil
}

// checkPage refuses a page larger than asked, and one that says more follow but
// holds nothing to continue from.
func (c *Client) checkPage(page, n int, more bool) error {
	switch {
	case n > int(c.pageItems):
		return fmt.Errorf("%w: page %d holds %d entries, more than the %d asked", ErrInvalidReply, page+1, n, c.pageItems)
	case more && n == 0:
		return fmt.Errorf("%w: page %d says more follow but holds nothing: the listing does not advance", ErrInvalidReply, page+1)
	}
	return nil
}
