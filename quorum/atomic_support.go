package quorum

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/provider"
)

// TxIDSize is the length of the txid the coordinator picks for each put: an
// 8-byte timestamp (milliseconds since the Unix epoch, big-endian) then 24
// random bytes. The timestamp lets a recovery in another process leave young
// transactions to their live coordinator (see youngTx); the prepare seal
// authenticates the txid, so a provider cannot make a transaction look young.
const TxIDSize = 32

// checkAtomicMode refuses ModeAtomic when the transactions could never be
// decided: every participant is recorded by its pinned server_id, and W
// participants (providers pinned as speaking the extension) must exist for a
// put to be decided committed.
func checkAtomicMode(mode Mode, ps []ProviderConfig, names []string, w int) error {
	if mode != ModeAtomic {
		return nil
	}
	var ext []string
	for i, p := range ps {
		if p.ServerID == nil {
			return fmt.Errorf("%w: provider %s: atomic mode needs every server_id pinned (each transaction records its participants by server_id)",
				ErrConfig, names[i])
		}
		if !p.Stock {
			ext = append(ext, names[i])
		}
	}
	if len(ext) < w {
		return fmt.Errorf("%w: atomic mode needs W=%d providers that speak the extension, but only %d are pinned so (%s): the others are stock servers, which cannot take part in a transaction",
			ErrConfig, w, len(ext), strings.Join(ext, ", "))
	}
	return nil
}

// useAtomic says whether Put uses the atomic commit: always in ModeAtomic (New
// checked it can), never in ModePlain, and in ModeAuto when every server_id is
// pinned and at least W providers are pinned as extension providers.
func (c *Client) useAtomic() bool {
	switch c.cfg.Mode {
	case ModePlain:
		return false
	case ModeAtomic:
		return true
	}
	ext := 0
	for _, m := range c.members {
		if m.opts.ServerID == nil {
			return false
		}
		if !m.stock {
			ext++
		}
	}
	return ext >= c.w
}

// participants splits the members into the transaction participants (pinned as
// extension providers) and the stock ones, each in configuration order.
func (c *Client) participants() (parts, stock []*member) {
	for _, m := range c.members {
		if m.stock {
			stock = append(stock, m)
		} else {
			parts = append(parts, m)
		}
	}
	return parts, stock
}

// stockNames names the providers pinned as stock servers.
func (c *Client) stockNames() []string {
	_, stock := c.participants()
	names := make([]string, len(stock))
	for i, m := range stock {
		names[i] = m.name
	}
	return names
}

// seal returns the stored form of kvs for a plain put, sorted by key: the same
// bytes go to every provider.
func (c *Client) seal(kvs []provider.KV) []provider.Entry { return c.sealTx(nil, kvs) }

// sealTx returns the stored form of kvs as written by transaction txid (value
// MAC v2, bound to key, version and txid), sorted by key, each entry carrying
// the txid.
func (c *Client) sealTx(txid []byte, kvs []provider.KV) []provider.Entry {
	m := c.cert.ValueMAC()
	es := make([]provider.Entry, len(kvs))
	for i, kv := range kvs {
		es[i] = provider.Entry{Key: kv.Key, Version: kv.Version, Value: kv.Value, Stored: m.Seal(kv.Key, kv.Version, txid, c.encrypt(kv)),
			TxID: bytes.Clone(txid)}
	}
	slices.SortFunc(es, func(a, b provider.Entry) int { return strings.Compare(a.Key, b.Key) })
	return es
}

// prepareSeal is the client's seal of a prepare: txid, the recorded quorum and
// every entry (key, version, stored bytes), in ascending key order.
func (c *Client) prepareSeal(txid []byte, q provider.Quorum, es []provider.Entry) []byte {
	kvs := make([]*lsspb.KeyValue, len(es))
	for i, e := range es {
		kvs[i] = &lsspb.KeyValue{Key: e.Key, Version: e.Version, Value: e.Stored}
	}
	slices.SortStableFunc(kvs, func(a, b *lsspb.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	return c.cert.PrepareSeal(txid, q.Participants, q.W, kvs)
}

// certified returns es (sorted by key) with the commit proofs of txid: what a
// decided transaction sends to providers that never prepared it (Restore) and
// to stock providers (a carrier). Only called once the commit is decided.
func (c *Client) certified(txid []byte, es []provider.Entry) []provider.Entry {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b provider.Entry) int { return strings.Compare(a.Key, b.Key) })
	for i := range out {
		out[i].TxID = bytes.Clone(txid)
		out[i].Proof = c.cert.Proof(txid, out[i].Key, out[i].Version, out[i].Stored)
	}
	return out
}

// newTxID makes a txid stamped with now (see TxIDSize).
func newTxID(now time.Time) []byte {
	txid := make([]byte, TxIDSize)
	binary.BigEndian.PutUint64(txid, uint64(now.UnixMilli()))
	if _, err := rand.Read(txid[8:]); err != nil {
		panic(fmt.Sprintf("quorum: no randomness for a txid: %v", err))
	}
	return txid
}
