package provider

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// narrowFixture is a client, behind a tampering proxy, with two committed, one
// fenced and two prepared transactions.
type narrowFixture struct {
	c                           *Client
	p                           *tamperProxy
	committed, fenced, prepared [][]byte
}

func startNarrowFixture(t *testing.T) *narrowFixture {
	t.Helper()
	d := startServer(t, false)
	p := startProxy(t, d.Addr(), false)
	f := &narrowFixture{c: dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: newKey(t), Extension: true}), p: p}
	for i, key := range []string{"c0", "c1", "p0", "p1"} {
		tx := txid(t)
		es := f.c.Seal([]KV{{Key: key, Value: []byte(key)}})
		if state, err := f.c.Prepare(ctxT(t), tx, Quorum{}, nil, es); err != nil || state != TxPrepared {
			t.Fatalf("Prepare %s = %v, %v", key, state, err)
		}
		if i < 2 {
			if err := f.c.Commit(ctxT(t), tx, f.c.CommitProofs(tx, es)); err != nil {
				t.Fatal(err)
			}
			f.committed = append(f.committed, tx)
		} else {
			f.prepared = append(f.prepared, tx)
		}
	}
	tx := txid(t)
	if state, err := f.c.Fence(ctxT(t), tx); err != nil || state != TxAborted {
		t.Fatalf("Fence = %v, %v", state, err)
	}
	f.fenced = append(f.fenced, tx)
	return f
}

func txidsOf(txs []Transaction) [][]byte {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		out[i] = tx.TxID
	}
	return out
}

func sortedIDs(ids ...[]byte) [][]byte {
	return slices.SortedFunc(slices.Values(ids), bytes.Compare)
}

func sameIDs(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }

// TestStatusOfAndPendingStatus: a narrowed Status returns exactly the records
// asked for, and the server sends no others.
func TestStatusOfAndPendingStatus(t *testing.T) {
	t.Parallel()
	f := startNarrowFixture(t)
	var listed int
	f.p.setReply(func(method string, _, reply proto.Message) {
		if r, ok := reply.(*lsspb.StatusReply); ok {
			listed += len(r.GetTransactions())
		}
	})
	unknown := txid(t)
	asked := [][]byte{f.prepared[1], unknown, f.committed[0], f.fenced[0], f.prepared[1]}
	txs, err := f.c.StatusOf(ctxT(t), asked)
	if err != nil {
		t.Fatal(err)
	}
	want := sortedIDs(f.prepared[1], f.committed[0], f.fenced[0])
	if got := txidsOf(txs); !sameIDs(got, want) {
		t.Fatalf("StatusOf = %x, want %x", got, want)
	}
	for _, tx := range txs {
		wantState := map[bool]TxState{true: TxPrepared, false: TxCommitted}[bytes.Equal(tx.TxID, f.prepared[1])]
		if bytes.Equal(tx.TxID, f.fenced[0]) {
			wantState = TxAborted
		}
		if tx.State != wantState {
			t.Errorf("StatusOf: %x is %v, want %v", tx.TxID, tx.State, wantState)
		}
	}
	if tx := txs[slices.IndexFunc(txs, func(tx Transaction) bool { return bytes.Equal(tx.TxID, f.prepared[1]) })]; len(tx.Entries) != 1 || string(tx.Entries[0].Value) != "p1" {
		t.Errorf("StatusOf: the prepared transaction's entries = %+v, want p1", tx.Entries)
	}
	if listed != 3 {
		t.Errorf("the server listed %d records for StatusOf, want the 3 asked for that it holds", listed)
	}

	listed = 0
	txs, err = f.c.PendingStatus(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := txidsOf(txs), sortedIDs(f.prepared...); !sameIDs(got, want) {
		t.Fatalf("PendingStatus = %x, want %x", got, want)
	}
	if listed != 2 {
		t.Errorf("the server listed %d records for PendingStatus, want the 2 prepared", listed)
	}

	if txs, err := f.c.StatusOf(ctxT(t), nil); err != nil || txs != nil {
		t.Errorf("StatusOf(nothing) = %v, %v, want nothing without a call", txs, err)
	}
}

// TestStatusOfManyTxIDs: more txids than one Status may name are asked in
// several calls.
func TestStatusOfManyTxIDs(t *testing.T) {
	t.Parallel()
	f := startNarrowFixture(t)
	calls := 0
	f.p.setRequest(func(method string, req proto.Message) {
		if r, ok := req.(*lsspb.StatusRequest); ok {
			calls++
			if len(r.GetTxids()) > wire.MaxStatusTxIDs {
				t.Errorf("a Status names %d txids, more than %d", len(r.GetTxids()), wire.MaxStatusTxIDs)
			}
		}
	})
	asked := [][]byte{f.committed[1]}
	for range wire.MaxStatusTxIDs + 10 {
		asked = append(asked, txid(t))
	}
	txs, err := f.c.StatusOf(ctxT(t), asked)
	if err != nil {
		t.Fatal(err)
	}
	if got := txidsOf(txs); !sameIDs(got, [][]byte{f.committed[1]}) {
		t.Errorf("StatusOf = %x, want only %x", got, f.committed[1])
	}
	if calls != 2 {
		t.Errorf("%d Status calls for %d txids, want 2", calls, len(asked))
	}
}

// TestNarrowedStatusFromAnOlderServer: a server that ignores the narrowing
// fields answers the whole listing under its own MAC; the client accepts it and
// narrows it itself.
func TestNarrowedStatusFromAnOlderServer(t *testing.T) {
	t.Parallel()
	f := startNarrowFixture(t)
	f.p.setRequest(func(method string, req proto.Message) {
		if r, ok := req.(*lsspb.StatusRequest); ok {
			r.Txids, r.PendingOnly = nil, false
		}
	})
	txs, err := f.c.StatusOf(ctxT(t), [][]byte{f.committed[0], f.prepared[0]})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := txidsOf(txs), sortedIDs(f.committed[0], f.prepared[0]); !sameIDs(got, want) {
		t.Errorf("StatusOf from an older server = %x, want %x", got, want)
	}
	txs, err = f.c.PendingStatus(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := txidsOf(txs), sortedIDs(f.prepared...); !sameIDs(got, want) {
		t.Errorf("PendingStatus from an older server = %x, want %x", got, want)
	}
}

// TestNarrowedStatusTampering: a man in the middle cannot drop a record from a
// narrowed reply, nor make it answer other txids; a provider that holds the
// secret and lists records not asked for gives an invalid reply.
func TestNarrowedStatusTampering(t *testing.T) {
	t.Parallel()
	f := startNarrowFixture(t)
	asked := [][]byte{f.committed[0], f.prepared[0]}
	for name, tc := range map[string]struct {
		request func(*lsspb.StatusRequest)
		reply   func(req *lsspb.StatusRequest, r *lsspb.StatusReply)
		pending bool
		want    error
	}{
		"record dropped":    {reply: func(_ *lsspb.StatusRequest, r *lsspb.StatusReply) { r.Transactions = r.Transactions[1:] }, want: ErrServerHMAC},
		"other txids asked": {request: func(r *lsspb.StatusRequest) { r.Txids = r.Txids[:1] }, want: ErrServerHMAC},
		"pending record dropped": {pending: true, want: ErrServerHMAC,
			reply: func(_ *lsspb.StatusRequest, r *lsspb.StatusReply) { r.Transactions = r.Transactions[1:] }},
		"a record not asked, MACed by the provider": {want: ErrInvalidReply,
			reply: func(req *lsspb.StatusRequest, r *lsspb.StatusReply) {
				r.Transactions = append(r.Transactions, &lsspb.Transaction{Txid: bytes.Repeat([]byte{0xff}, 16), State: lsspb.TxState_TX_COMMITTED})
				r.Hmac = wire.StatusTxIDsReplyMAC(f.c.secret, req.Nonce, req.Txids, r.Transactions)
			}},
		"a committed record among the pending, MACed by the provider": {pending: true, want: ErrInvalidReply,
			reply: func(req *lsspb.StatusRequest, r *lsspb.StatusReply) {
				r.Transactions[0].State = lsspb.TxState_TX_COMMITTED
				r.Hmac = wire.StatusPendingPageReplyMAC(f.c.secret, req.Nonce, req.StartAfter, req.PageLimit, r.Transactions, r.More)
			}},
	} {
		f.p.setRequest(func(_ string, req proto.Message) {
			if r, ok := req.(*lsspb.StatusRequest); ok && tc.request != nil {
				tc.request(r)
			}
		})
		f.p.setReply(func(_ string, req, reply proto.Message) {
			if r, ok := reply.(*lsspb.StatusReply); ok && tc.reply != nil {
				tc.reply(req.(*lsspb.StatusRequest), r)
			}
		})
		var err error
		if tc.pending {
			_, err = f.c.PendingStatus(ctxT(t))
		} else {
			_, err = f.c.StatusOf(ctxT(t), asked)
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

// TestStatusOfLargerThanAReply: records asked for that pass the server's max
// reply size in one reply (prepared records carry their values), or an older
// server's whole listing that does, are read in pages instead.
func TestStatusOfLargerThanAReply(t *testing.T) {
	t.Parallel()
	d := startServer(t, false, func(o *lssd.Options) { o.Limits.MaxReplySize = 4096 })
	p := startProxy(t, d.Addr(), false)
	c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: newKey(t), Extension: true})
	var ids [][]byte
	for i := range 5 {
		tx := txid(t)
		es := c.Seal([]KV{{Key: fmt.Sprintf("k%d", i), Value: bytes.Repeat([]byte{'v'}, 1000)}})
		if _, err := c.Prepare(ctxT(t), tx, Quorum{}, nil, es); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tx)
	}
	want := sortedIDs(ids...)
	for _, older := range []bool{false, true} {
		p.setRequest(func(_ string, req proto.Message) {
			if r, ok := req.(*lsspb.StatusRequest); ok && older {
				r.Txids = nil
			}
		})
		txs, err := c.StatusOf(ctxT(t), append([][]byte{txid(t)}, ids...))
		if err != nil {
			t.Fatalf("older server %v: StatusOf: %v", older, err)
		}
		if got := txidsOf(txs); !sameIDs(got, want) {
			t.Errorf("older server %v: StatusOf = %x, want %x", older, got, want)
		}
		for _, tx := range txs {
			if len(tx.Entries) != 1 || len(tx.Entries[0].Value) != 1000 {
				t.Errorf("older server %v: %x holds %d entries", older, tx.TxID, len(tx.Entries))
			}
		}
	}
}
