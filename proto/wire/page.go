package wire

import "github.com/lssquorum/lss/proto/lsspb"

// BoundGetPageReplyMAC authenticates one page of a paged BoundGet: it binds the
// page to the request's prefix, nonce, start (startAfter nil: from the first key)
// and page limit, says whether more keys follow, so that a listing cannot be cut
// short, restarted elsewhere or stitched from another request's pages, and binds
// the generation the page was read at, so that a network attacker cannot make
// pages of two states look like one snapshot (or one snapshot look changed).
func BoundGetPageReplyMAC(secret []byte, prefix string, nonce []byte, startAfter *string, pageLimit int32,
	kvs []*lsspb.KeyValue, more bool, generation []byte) []byte {
	m := NewExtMAC(secret, DomainBoundGetPageReply).String(prefix).Bytes(nonce).Bool(startAfter != nil)
	if startAfter != nil {
		m.String(*startAfter)
	} else {
		m.String("")
	}
	return m.Int(int64(pageLimit)).KVs(kvs).Bool(more).Bytes(generation).Sum()
}

// StatusPageReplyMAC authenticates one page of a paged Status, bound to the
// request's nonce, start and page limit, with whether more transactions follow.
func StatusPageReplyMAC(secret, nonce, startAfter []byte, pageLimit int32, txs []*lsspb.Transaction, more bool) []byte {
	m := NewExtMAC(secret, DomainStatusPageReply).Bytes(nonce).Bytes(startAfter).Int(int64(pageLimit)).Int(int64(len(txs)))
	for _, tx := range txs {
		m.transaction(tx)
	}
	return m.Bool(more).Sum()
}
