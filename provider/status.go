package provider

import (
	"bytes"
	"context"
	"fmt"
	"time"
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
func (c *Client) Status(ctx context.Context) ([]Transaction, error) {
	all, err := c.statusPages(ctx)
	if err != nil {
		return nil, c.fail("status", err)
	}
	txs := make([]Transaction, len(all))
	s := c.newSealer()
	var tampered []KeyVersion
	for i, tx := range all {
		if i > 0 && bytes.Compare(all[i-1].GetTxid(), tx.GetTxid()) >= 0 {
			return nil, c.fail("status", fmt.Errorf("%w: transactions not in ascending txid order", ErrInvalidReply))
		}
		state, err := txStateOf(tx.GetState())
		if err != nil {
			return nil, c.fail("status", err)
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
		return txs, c.fail("status", &TamperedError{Provider: c.name, Keys: tampered})
	}
	return txs, nil
}
