package provider

import (
	"context"
	"fmt"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// GetKey returns the entry of one key, verified as Get verifies it, and
// whether the server holds the key. Get of the key as a prefix would also read
// every key it prefixes (reading "chan/1" reads "chan/10" to "chan/199"...);
// from an extension server GetKey reads one page of one entry instead: the
// first key under the prefix key, which is key itself if the server holds it.
// The page's MAC binds the prefix, the limit and whether more follow, so a
// server cannot answer with another key's entry or hide the key behind one
// it prefixes. A server that does not page, or speaks only the base protocol,
// is read with Get and the key picked out of the listing.
func (c *Client) GetKey(ctx context.Context, key string) (Entry, bool, error) {
	if !c.ext {
		es, err := c.Get(ctx, key)
		return pick(es, key, err)
	}
	kvs, err := c.firstUnder(ctx, key)
	if err != nil {
		return Entry{}, false, c.fail("get", err)
	}
	if err := checkListing(key, kvs); err != nil {
		return Entry{}, false, c.fail("get", err)
	}
	entries, tampered := c.openAll(kvs, false)
	if len(tampered) > 0 {
		return pick(entries, key, c.fail("get", &TamperedError{Provider: c.name, Keys: tampered}))
	}
	return pick(entries, key, nil)
}

// firstUnder reads the first key-value under prefix with a BoundGet page of
// one entry, its MAC verified; a server that does not page answers with the
// whole listing under the unpaged MAC.
func (c *Client) firstUnder(ctx context.Context, prefix string) ([]*lsspb.KeyValue, error) {
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	const limit = 1
	reply, err := c.rpc.BoundGet(ctx, &lsspb.GetRequest{Auth: c.auth, KeyPrefix: prefix, Nonce: nonce, PageLimit: limit})
	if err := c.rpcErr(ctx, err, c.extCodes(nil)); err != nil {
		return nil, err
	}
	kvs, more, g := reply.GetKvs(), reply.GetMore(), reply.GetGeneration()
	if wire.Equal(reply.GetHmac(), wire.BoundGetPageReplyMAC(c.secret, prefix, nonce, nil, limit, kvs, more, g)) {
		if len(kvs) > limit || (more && len(kvs) == 0) {
			return nil, fmt.Errorf("%w: a page of %d asked holds %d entries (more follow: %v)", ErrInvalidReply, limit, len(kvs), more)
		}
		return kvs, nil
	}
	if !more && wire.Equal(reply.GetHmac(), wire.BoundGetReplyMAC(c.secret, prefix, nonce, kvs)) {
		return kvs, nil // a server that does not page: the whole listing
	}
	return nil, ErrServerHMAC
}

// pick returns the entry of key among es (with err, which may report other
// entries tampered with).
func pick(es []Entry, key string, err error) (Entry, bool, error) {
	for _, e := range es {
		if e.Key == key {
			return e, true, err
		}
	}
	return Entry{}, false, err
}
