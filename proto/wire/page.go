package wire

import "github.com/lssquorum/lss/proto/lsspb"

// MaxStatusTxIDs is how many txids one Status may ask for (StatusRequest.txids):
// enough for every transaction a client settles at once, few enough that the
// server's point reads and the reply stay small.
const MaxStatusTxIDs = 256

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
	return statusPageMAC(secret, DomainStatusPageReply, nonce, startAfter, pageLimit, txs, more)
}

// StatusPendingPageReplyMAC authenticates one page of a Status that lists the
// prepared transactions only (pending_only): StatusPageReplyMAC's layout under
// its own domain, so that a page of a whole listing cannot pass for one of the
// pending transactions (or the reverse).
func StatusPendingPageReplyMAC(secret, nonce, startAfter []byte, pageLimit int32, txs []*lsspb.Transaction, more bool) []byte {
	return statusPageMAC(secret, DomainStatusPendingPageReply, nonce, startAfter, pageLimit, txs, more)
}

func statusPageMAC(secret []byte, d Domain, nonce, startAfter []byte, pageLimit int32, txs []*lsspb.Transaction, more bool) []byte {
	m := NewExtMAC(secret, d).Bytes(nonce).Bytes(startAfter).Int(int64(pageLimit)).Int(int64(len(txs)))
	for _, tx := range txs {
		m.transaction(tx)
	}
	return m.Bool(more).Sum()
}

// StatusTxIDsReplyMAC authenticates the reply to a Status asking for some
// txids only: bound to the nonce and to the txids asked, in request order, so
// that a reply cannot be made to answer other txids (one it leaves out is one
// the server holds no record of, and says so under this MAC).
func StatusTxIDsReplyMAC(secret, nonce []byte, txids [][]byte, txs []*lsspb.Transaction) []byte {
	m := NewExtMAC(secret, DomainStatusTxIDsReply).Bytes(nonce).Int(int64(len(txids)))
	for _, id := range txids {
		m.Bytes(id)
	}
	m.Int(int64(len(txs)))
	for _, tx := range txs {
		m.transaction(tx)
	}
	return m.Sum()
}
