package provider

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
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
}

// Status lists the client's pending and recently decided transactions in txid
// order, with the reply bound to a fresh nonce. Values whose HMAC fails keep a nil
// Value and are reported in a *TamperedError returned alongside the list. A stock
// server gives ErrNotSupported.
func (c *Client) Status(ctx context.Context) ([]Transaction, error) {
	nonce := make([]byte, NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, c.fail("status", err)
	}
	reply, err := c.rpc.Status(ctx, &lsspb.StatusRequest{Auth: c.auth, Nonce: nonce})
	if err != nil {
		return nil, c.fail("status", rpcError(ctx, err, extensionCodes))
	}
	if !wire.Equal(reply.GetHmac(), wire.StatusReplyMAC(c.secret, nonce, reply.GetTransactions())) {
		return nil, c.fail("status", ErrServerHMAC)
	}
	txs := make([]Transaction, len(reply.GetTransactions()))
	m := wire.NewValueMAC(c.hmacSecret)
	var tampered []KeyVersion
	for i, tx := range reply.GetTransactions() {
		if i > 0 && bytes.Compare(reply.GetTransactions()[i-1].GetTxid(), tx.GetTxid()) >= 0 {
			return nil, c.fail("status", fmt.Errorf("%w: transactions not in ascending txid order", ErrInvalidReply))
		}
		state, err := txStateOf(tx.GetState())
		if err != nil {
			return nil, c.fail("status", err)
		}
		entries := make([]Entry, len(tx.GetKvs()))
		for j, kv := range tx.GetKvs() {
			entries[j] = Entry{Key: kv.GetKey(), Version: kv.GetVersion(), Stored: kv.GetValue()}
			plain, err := c.open(m, kv.GetKey(), kv.GetVersion(), kv.GetValue())
			if err != nil {
				tampered = append(tampered, KeyVersion{Key: kv.GetKey(), Version: kv.GetVersion()})
				continue
			}
			entries[j].Value = plain
		}
		txs[i] = Transaction{TxID: tx.GetTxid(), State: state, Entries: entries, Updated: time.UnixMilli(tx.GetUpdatedUnixMs()),
			Quorum: Quorum{Participants: tx.GetParticipants(), W: int(tx.GetWriteQuorum())}}
	}
	if len(tampered) > 0 {
		return txs, c.fail("status", &TamperedError{Provider: c.name, Keys: tampered})
	}
	return txs, nil
}
