package provider

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/lssquorum/lss/proto/lsspb"
)

// Transaction is one txid a server holds for this client.
type Transaction struct {
	TxID  []byte
	State TxState
	// Entries are the pending writes (possibly none for a decided txid). An
	// entry's Value is nil if its value HMAC failed; Stored is always as held.
	Entries []Entry
	// Updated is when the server recorded the current state.
	Updated time.Time
	// Quorum is the thresholds recorded with the prepare (zero if none).
	Quorum Quorum
	// Seal is the prepare seal recorded with the prepare (nil if none), kept
	// once the transaction is decided.
	Seal []byte
	// SealValid is set for a prepared transaction whose Seal is this client's
	// prepare seal of TxID, Quorum and Entries: the record is as the client
	// prepared it. (A decided record keeps no entries to check it against.)
	SealValid bool
}

// Status lists the client's pending and recently decided transactions in txid
// order, read in pages (Options.PageItems) that it follows to the end, each
// reply bound to a fresh nonce, its start and whether more follow. Each entry of a prepared
// transaction carries the transaction's TxID and is checked as sealed for it (in
// the quorum format the value MAC binds the txid). Values that fail keep a nil
// Value and are reported in a *TamperedError returned alongside the list. A
// server not pinned as an extension server gives ErrNotSupported for
// UNIMPLEMENTED, a pinned one ErrNotExtension.
//
// Decided records stay on a server for days: PendingStatus and StatusOf read
// only what recovery and settling need.
func (c *Client) Status(ctx context.Context) ([]Transaction, error) {
	all, err := c.statusPages(ctx, false)
	return c.transactions("status", all, err)
}

// PendingStatus is Status listing the prepared transactions only: the server
// reads past the decided records (paged, pending_only), so the reply holds only
// what is still to settle.
func (c *Client) PendingStatus(ctx context.Context) ([]Transaction, error) {
	all, err := c.statusPages(ctx, true)
	return c.transactions("status of the prepared transactions", all, err)
}

// StatusOf is Status listing the records of txids only, in txid order; a txid
// the server holds no record of is left out, under the server's MAC over the
// txids asked. It asks wire.MaxStatusTxIDs txids per call.
func (c *Client) StatusOf(ctx context.Context, txids [][]byte) ([]Transaction, error) {
	ids := slices.SortedFunc(slices.Values(txids), bytes.Compare)
	ids = slices.CompactFunc(ids, bytes.Equal)
	if len(ids) == 0 {
		return nil, nil
	}
	all, err := c.statusOfTxIDs(ctx, ids)
	return c.transactions("status of "+strconv.Itoa(len(ids))+" txids", all, err)
}

// transactions checks and decodes the records of a Status listing (or fails
// with err, naming op).
func (c *Client) transactions(op string, all []*lsspb.Transaction, err error) ([]Transaction, error) {
	if err != nil {
		return nil, c.fail(op, err)
	}
	txs := make([]Transaction, len(all))
	s := c.newSealer()
	var tampered []KeyVersion
	for i, tx := range all {
		if i > 0 && bytes.Compare(all[i-1].GetTxid(), tx.GetTxid()) >= 0 {
			return nil, c.fail(op, fmt.Errorf("%w: transactions not in ascending txid order", ErrInvalidReply))
		}
		state, err := txStateOf(tx.GetState())
		if err != nil {
			return nil, c.fail(op, err)
		}
		entries := make([]Entry, len(tx.GetKvs()))
		for j, kv := range tx.GetKvs() {
			// A prepared write has no txid or proof of its own: it was sealed
			// for the transaction's txid, and is not committed.
			entries[j] = Entry{Key: kv.GetKey(), Version: kv.GetVersion(), Stored: kv.GetValue(), TxID: tx.GetTxid()}
			if len(kv.GetTxid()) > 0 || len(kv.GetProof()) > 0 || s.verify(&entries[j]) != nil {
				tampered = append(tampered, KeyVersion{Key: kv.GetKey(), Version: kv.GetVersion()})
			}
		}
		q := Quorum{Participants: tx.GetParticipants(), W: int(tx.GetWriteQuorum())}
		txs[i] = Transaction{TxID: tx.GetTxid(), State: state, Entries: entries, Updated: time.UnixMilli(tx.GetUpdatedUnixMs()),
			Quorum: q, Seal: tx.GetSeal()}
		if state == TxPrepared && len(tx.GetSeal()) > 0 {
			txs[i].SealValid = c.VerifyPrepareSeal(tx.GetTxid(), q, entries, tx.GetSeal())
		}
	}
	if len(tampered) > 0 {
		return txs, c.fail(op, &TamperedError{Provider: c.name, Keys: tampered})
	}
	return txs, nil
}
