package lssd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// statusOf asks for the records of txids and checks the reply MAC.
func (c *client) statusOf(nonce []byte, txids ...[]byte) *lsspb.StatusReply {
	c.t.Helper()
	reply, err := c.rpc.Status(ctxT(c.t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: nonce, Txids: txids})
	if err != nil {
		c.t.Fatalf("Status of %d txids: %v", len(txids), err)
	}
	if !bytes.Equal(reply.Hmac, wire.StatusTxIDsReplyMAC(c.secret, nonce, txids, reply.Transactions)) {
		c.t.Fatal("Status of txids: reply MAC does not verify")
	}
	return reply
}

// commitTx prepares kvs under id and commits them, through the server.
func (c *client) commitTx(id []byte, kvs ...*lsspb.KeyValue) {
	c.t.Helper()
	if r, err := c.prepare(id, kvs...); err != nil || r.State != lsspb.TxState_TX_PREPARED {
		c.t.Fatalf("Prepare: %v, %v", r, err)
	}
	if r, err := c.tx(commitCall, id); err != nil || r.State != lsspb.TxState_TX_COMMITTED {
		c.t.Fatalf("Commit: %v, %v", r, err)
	}
}

// TestStatusTxIDs: a Status asking for some txids lists exactly the records the
// server holds of them, committed, aborted and prepared alike, in txid order
// whatever the request order, as the whole listing has them; the reply MAC
// binds the txids as asked, so it passes neither for a whole listing nor for
// the same txids asked in another order. Another client's txid is not this
// client's record.
func TestStatusTxIDs(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, testOptions(t))
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	other := newClient(t, dial(t, d.Addr()), d.ServerID())

	var committed, prepared [][]byte
	for i := range 3 {
		id := txid(t)
		c.commitTx(id, kv(fmt.Sprintf("c/%d", i), 0, "committed"))
		committed = append(committed, id)
	}
	aborted := txid(t)
	if r, err := c.tx(fenceCall, aborted); err != nil || r.State != lsspb.TxState_TX_ABORTED {
		t.Fatalf("Fence: %v, %v", r, err)
	}
	for i := range 2 {
		id := txid(t)
		if _, err := c.prepare(id, kv(fmt.Sprintf("p/%d", i), 0, "pending"), kv(fmt.Sprintf("q/%d", i), 0, "pending")); err != nil {
			t.Fatal(err)
		}
		prepared = append(prepared, id)
	}
	notAsked := txid(t)
	if _, err := c.prepare(notAsked, kv("n", 0, "not asked")); err != nil {
		t.Fatal(err)
	}
	othersID := txid(t)
	if _, err := other.prepare(othersID, kv("o", 0, "another client's")); err != nil {
		t.Fatal(err)
	}

	asked := [][]byte{prepared[1], txid(t), committed[2], othersID, aborted, committed[0], txid(t), prepared[0], committed[1]}
	held := [][]byte{committed[0], committed[1], committed[2], aborted, prepared[0], prepared[1]}
	var want []*lsspb.Transaction
	for _, tx := range c.status() {
		if slices.ContainsFunc(held, func(id []byte) bool { return bytes.Equal(id, tx.Txid) }) {
			want = append(want, tx)
		}
	}
	if len(want) != len(held) {
		t.Fatalf("the whole listing holds %d of the %d txids", len(want), len(held))
	}
	nonce := []byte("txids nonce")
	reply := c.statusOf(nonce, asked...)
	if len(reply.Transactions) != len(want) {
		t.Fatalf("Status of txids: %d records, want %d", len(reply.Transactions), len(want))
	}
	for i := range want {
		if !proto.Equal(reply.Transactions[i], want[i]) {
			t.Fatalf("record %d: got %x (%v), want %x (%v)", i, reply.Transactions[i].Txid, reply.Transactions[i].State,
				want[i].Txid, want[i].State)
		}
	}
	states := map[lsspb.TxState]int{}
	for _, tx := range reply.Transactions {
		states[tx.State]++
	}
	if states[lsspb.TxState_TX_COMMITTED] != 3 || states[lsspb.TxState_TX_ABORTED] != 1 || states[lsspb.TxState_TX_PREPARED] != 2 {
		t.Fatalf("states %v, want 3 committed, 1 aborted, 2 prepared", states)
	}
	if bytes.Equal(reply.Hmac, wire.StatusReplyMAC(c.secret, nonce, reply.Transactions)) {
		t.Fatal("the reply to a Status of txids verifies as a whole listing")
	}
	sorted := slices.Clone(asked)
	slices.SortFunc(sorted, bytes.Compare)
	if bytes.Equal(reply.Hmac, wire.StatusTxIDsReplyMAC(c.secret, nonce, sorted, reply.Transactions)) {
		t.Fatal("the reply MAC does not bind the order of the txids asked")
	}

	// Only unknown txids: an authenticated empty reply.
	if r := c.statusOf(nonce, txid(t), othersID); len(r.Transactions) != 0 {
		t.Fatalf("Status of unknown txids: %d records, want none", len(r.Transactions))
	}
	// The other client sees its own record under the same txid.
	if r := other.statusOf(nonce, othersID, committed[0]); len(r.Transactions) != 1 || !bytes.Equal(r.Transactions[0].Txid, othersID) {
		t.Fatalf("other client's Status of its txid: %d records, want its own one", len(r.Transactions))
	}
	// The most a request may ask for.
	many := make([][]byte, wire.MaxStatusTxIDs)
	for i := range many {
		many[i] = txid(t)
	}
	many[100] = prepared[0]
	if r := c.statusOf(nonce, many...); len(r.Transactions) != 1 || !bytes.Equal(r.Transactions[0].Txid, prepared[0]) {
		t.Fatalf("Status of %d txids: %d records, want 1", len(many), len(r.Transactions))
	}
}

// orderedTxID is a txid that sorts by pos, then tag.
func orderedTxID(pos int, tag byte) []byte {
	id := bytes.Repeat([]byte{0x5a}, 32)
	binary.BigEndian.PutUint32(id, uint32(pos))
	id[4] = tag
	return id
}

// TestStatusPendingOnly: with thousands of committed records before, between
// and after a few prepared ones, a pending_only Status followed page by page
// lists exactly the prepared records, each page under the pending page MAC
// (which no other Status MAC matches), in full pages of as many as the page
// may hold, the last one saying no more.
func TestStatusPendingOnly(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxPageItems = 2
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())

	const decided = 2500
	pendingAt := []int{2000, 2001, 2002, 2200, 2490}
	var pending [][]byte
	for pos := range decided {
		// Through the store: 2,500 Prepare and Commit calls over gRPC would
		// only slow the test down.
		id := orderedTxID(pos, 0)
		key := fmt.Sprintf("d/%d", pos)
		if st, _, err := d.store.Prepare(ctxT(t), c.id, id, []store.KV{{Key: key, Value: []byte("v")}}); err != nil || st != store.TxPrepared {
			t.Fatalf("Prepare %d: %v, %v", pos, st, err)
		}
		if err := d.store.Commit(ctxT(t), c.id, id, [][]byte{testProof(id, key)}); err != nil {
			t.Fatalf("Commit %d: %v", pos, err)
		}
		if slices.Contains(pendingAt, pos) {
			id := orderedTxID(pos, 1)
			if _, err := c.prepare(id, kv(fmt.Sprintf("p/%d", pos), 0, "pending")); err != nil {
				t.Fatal(err)
			}
			pending = append(pending, id)
		}
	}

	for _, limit := range []int32{1, 2, 50} {
		var got []*lsspb.Transaction
		var after []byte
		for page := 0; ; page++ {
			nonce := []byte(fmt.Sprintf("pending %d %d", limit, page))
			reply, err := c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: nonce, StartAfter: after,
				PageLimit: limit, PendingOnly: true})
			if err != nil {
				t.Fatalf("limit %d page %d: %v", limit, page, err)
			}
			if !bytes.Equal(reply.Hmac, wire.StatusPendingPageReplyMAC(c.secret, nonce, after, limit, reply.Transactions, reply.More)) {
				t.Fatalf("limit %d page %d: reply MAC does not verify", limit, page)
			}
			if bytes.Equal(reply.Hmac, wire.StatusPageReplyMAC(c.secret, nonce, after, limit, reply.Transactions, reply.More)) {
				t.Fatalf("limit %d page %d: a pending page verifies as a page of the whole listing", limit, page)
			}
			if n := len(reply.Transactions); n > min(int(limit), 2) || reply.More && n == 0 || page > len(pending) {
				t.Fatalf("limit %d page %d: %d records, more %v", limit, page, n, reply.More)
			}
			got = append(got, reply.Transactions...)
			if !reply.More {
				// Full pages, and none left empty at the end: more says
				// whether a prepared record follows.
				if per := min(int(limit), 2); page+1 != (len(pending)+per-1)/per {
					t.Fatalf("limit %d: %d pages for %d records", limit, page+1, len(pending))
				}
				break
			}
			after = reply.Transactions[len(reply.Transactions)-1].Txid
		}
		if len(got) != len(pending) {
			t.Fatalf("limit %d: %d records, want the %d prepared", limit, len(got), len(pending))
		}
		for i, tx := range got {
			if !bytes.Equal(tx.Txid, pending[i]) || tx.State != lsspb.TxState_TX_PREPARED || len(tx.Kvs) != 1 {
				t.Fatalf("limit %d record %d: %x %v with %d writes, want prepared %x", limit, i, tx.Txid, tx.State, len(tx.Kvs), pending[i])
			}
		}
	}
}

// TestStatusNarrowingRefused: each way of asking a narrowed Status wrongly is
// INVALID_ARGUMENT, with a message naming the problem.
func TestStatusNarrowingRefused(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, testOptions(t))
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	a, b := txid(t), txid(t)
	tooMany := make([][]byte, wire.MaxStatusTxIDs+1)
	for i := range tooMany {
		tooMany[i] = txid(t)
	}
	short := bytes.Repeat([]byte{0xab}, store.MinTxIDLen-1)
	for _, tc := range []struct {
		name  string
		req   *lsspb.StatusRequest
		words []string
	}{
		{"txids with pending_only", &lsspb.StatusRequest{Txids: [][]byte{a}, PendingOnly: true, PageLimit: 5},
			[]string{"txids", "pending_only"}},
		{"txids with page_limit", &lsspb.StatusRequest{Txids: [][]byte{a}, PageLimit: 5}, []string{"txids", "page_limit"}},
		{"txids with start_after", &lsspb.StatusRequest{Txids: [][]byte{a}, StartAfter: b}, []string{"txids", "start_after"}},
		{"txids with negative page_limit", &lsspb.StatusRequest{Txids: [][]byte{a}, PageLimit: -1}, []string{"txids", "page_limit"}},
		{"too many txids", &lsspb.StatusRequest{Txids: tooMany}, []string{"257", "256"}},
		{"repeated txid", &lsspb.StatusRequest{Txids: [][]byte{a, b, a}}, []string{"txids[2]", "repeats", fmt.Sprintf("%x", a)}},
		{"short txid", &lsspb.StatusRequest{Txids: [][]byte{a, short}}, []string{"txids[1]", fmt.Sprintf("%x", short), "15 bytes"}},
		{"long txid", &lsspb.StatusRequest{Txids: [][]byte{make([]byte, store.MaxTxIDLen+1)}}, []string{"txids[0]", "65 bytes"}},
		{"empty txid", &lsspb.StatusRequest{Txids: [][]byte{a, {}}}, []string{"txids[1]", "0 bytes"}},
		{"pending_only without page_limit", &lsspb.StatusRequest{PendingOnly: true}, []string{"pending_only needs page_limit"}},
		{"pending_only with negative page_limit", &lsspb.StatusRequest{PendingOnly: true, PageLimit: -3}, []string{"page_limit", "negative"}},
	} {
		tc.req.Auth, tc.req.Nonce = c.auth(), []byte("n")
		_, err := c.rpc.Status(ctxT(t), tc.req)
		wantCode(t, tc.name, err, codes.InvalidArgument, tc.words...)
	}
}

// TestStatusTxIDsMaxReplySize: a Status of txids whose prepared records pass
// the max reply size is refused whole with RESOURCE_EXHAUSTED; fewer of them
// are answered.
func TestStatusTxIDsMaxReplySize(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.MaxReplySize = 4096
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	big := strings.Repeat("v", 1000)
	var ids [][]byte
	for i := range 5 {
		id := txid(t)
		if _, err := c.prepare(id, kv(fmt.Sprintf("p/%d", i), 0, big)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	_, err := c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: c.auth(), Nonce: []byte{1}, Txids: ids})
	wantCode(t, "Status of txids over the limit", err, codes.ResourceExhausted, "max reply size", "4096", "fewer txids")
	if r := c.statusOf([]byte{2}, ids[:2]...); len(r.Transactions) != 2 {
		t.Fatalf("Status of 2 txids: %d records, want 2", len(r.Transactions))
	}
}
