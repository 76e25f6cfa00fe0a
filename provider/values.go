package provider

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// KV is a plain key-value to write: the value without its HMAC.
type KV struct {
	Key     string
	Version int64
	Value   []byte
}

// Entry is a key-value in both forms: Value is the plain value (verified when it
// came from a server) and Stored the sealed bytes as sent to a provider (the value
// with its MAC appended, encrypted in the Rust format if the client encrypts).
// Stored never includes a carrier: an entry read from a stock provider has the
// same Stored as one read from an extension provider.
type Entry struct {
	Key     string
	Version int64
	Value   []byte
	Stored  []byte
	// TxID is the transaction that wrote this version (empty for a plain put).
	// In the quorum format the value MAC binds it.
	TxID []byte
	// Proof is the client's commit proof for this version, if the provider
	// holds one (wire.CommitProof).
	Proof []byte
	// Certified is set on entries read from a provider when Proof is present and
	// verifies: the transaction that wrote the value was decided committed.
	Certified bool
}

// Seal returns the stored form of kvs for a plain (non-transactional) put, in
// the same order. It is deterministic: the same kvs always seal to the same
// bytes, so a quorum coordinator can send identical entries to every provider.
func (c *Client) Seal(kvs []KV) []Entry {
	return c.SealTx(nil, kvs)
}

// SealTx returns the stored form of kvs as written by the transaction txid: in
// the quorum format the value MAC binds txid, so the values cannot be presented
// as another transaction's or a plain put's. Entries carry TxID. Deterministic,
// like Seal.
func (c *Client) SealTx(txid []byte, kvs []KV) []Entry {
	s := c.newSealer()
	es := make([]Entry, len(kvs))
	for i, kv := range kvs {
		es[i] = Entry{Key: kv.Key, Version: kv.Version, Value: kv.Value, Stored: s.seal(kv, txid), TxID: bytes.Clone(txid)}
	}
	return es
}

// sealer seals and opens the values of one request in the client's format,
// reusing one MAC state. It is not safe for concurrent use.
type sealer struct {
	c  *Client
	v1 *wire.ValueMAC
	v2 *wire.ValueMACv2
}

func (c *Client) newSealer() *sealer {
	if c.format == FormatQuorum {
		return &sealer{c: c, v2: c.cert.ValueMAC()}
	}
	return &sealer{c: c, v1: wire.NewValueMAC(c.hmacSecret)}
}

// seal returns the stored form of kv written by txid.
func (s *sealer) seal(kv KV, txid []byte) []byte {
	if s.v2 != nil {
		return s.v2.Seal(kv.Key, kv.Version, txid, kv.Value)
	}
	sealed := s.v1.Seal(kv.Key, kv.Version, kv.Value)
	if s.c.encrypt {
		return wire.XORKeystream(s.c.hmacSecret, kv.Key, kv.Version, sealed)
	}
	return sealed
}

// open checks and strips the value MAC of a stored value written by txid (the
// Rust format does not bind the txid), decrypting a copy first if the client
// encrypts.
func (s *sealer) open(key string, version int64, txid, stored []byte) ([]byte, error) {
	if s.v2 != nil {
		return s.v2.Open(key, version, txid, stored)
	}
	if s.c.encrypt {
		stored = wire.XORKeystream(s.c.hmacSecret, key, version, bytes.Clone(stored))
	}
	return s.v1.Open(key, version, stored)
}

// verify checks one entry as read from a provider: its value MAC with its txid
// and, if it has a proof, the proof. It fills Value and Certified. Any failure
// is tampering: the provider returned bytes this client did not write there.
func (s *sealer) verify(e *Entry) error {
	plain, err := s.open(e.Key, e.Version, e.TxID, e.Stored)
	if err != nil {
		return err
	}
	if len(e.Proof) > 0 {
		if len(e.TxID) == 0 || !s.c.cert.VerifyProof(e.TxID, e.Key, e.Version, e.Stored, e.Proof) {
			return fmt.Errorf("%w: key %q version %d: commit proof does not verify", wire.ErrValueHMAC, e.Key, e.Version)
		}
		e.Certified = true
	}
	e.Value = plain
	return nil
}

// carried reports whether values travel in carriers: in the quorum format, to a
// server not pinned as an extension server, whose base Put and Get have no place
// for a txid and proof.
func (c *Client) carried() bool { return c.format == FormatQuorum && !c.ext }

// entryOf reads a key-value from a reply into an entry, unwrapping the carrier of
// a value read through the base protocol in the quorum format. It does not verify.
func (c *Client) entryOf(kv *lsspb.KeyValue, viaBase bool) (Entry, error) {
	e := Entry{Key: kv.GetKey(), Version: kv.GetVersion(), Stored: kv.GetValue(), TxID: kv.GetTxid(), Proof: kv.GetProof()}
	if viaBase {
		// The base protocol has no such fields; a server that sets them is
		// not speaking it, and they would be unauthenticated.
		e.TxID, e.Proof = nil, nil
		if c.carried() {
			txid, proof, sealed, err := wire.UnwrapCarrier(kv.GetValue())
			if err != nil {
				return e, err
			}
			e.TxID, e.Proof, e.Stored = nilIfEmpty(txid), nilIfEmpty(proof), sealed
		}
	}
	return e, nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// sortedKVs returns the wire form of es in ascending key order, refusing
// duplicate keys the server would refuse anyway, so the caller gets a clear
// error without a round trip. withTx includes each entry's txid and proof (for
// Restore); otherwise an entry carrying either is refused unless it travels in a
// carrier (a base Put in the quorum format).
func (c *Client) sortedKVs(es []Entry, withTx, carrier bool) ([]*lsspb.KeyValue, error) {
	return sortKVs(es, func(e Entry, kv *lsspb.KeyValue) error {
		switch {
		case withTx:
			kv.Txid, kv.Proof = e.TxID, e.Proof
		case carrier:
			kv.Value = wire.WrapCarrier(e.TxID, e.Proof, e.Stored)
		case len(e.TxID) > 0 || len(e.Proof) > 0:
			return fmt.Errorf("entry %q carries a txid or proof, which this request cannot store (use Restore)", e.Key)
		}
		return nil
	})
}

// sortKVs makes the messages of es (key, version, stored bytes, then what
// fill adds) in ascending key order, refusing a duplicate key. The messages
// share one allocation.
func sortKVs(es []Entry, fill func(Entry, *lsspb.KeyValue) error) ([]*lsspb.KeyValue, error) {
	msgs := make([]lsspb.KeyValue, len(es))
	kvs := make([]*lsspb.KeyValue, len(es))
	for i, e := range es {
		kv := &msgs[i]
		kv.Key, kv.Version, kv.Value = e.Key, e.Version, e.Stored
		if err := fill(e, kv); err != nil {
			return nil, err
		}
		kvs[i] = kv
	}
	slices.SortStableFunc(kvs, func(a, b *lsspb.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	for i := 1; i < len(kvs); i++ {
		if kvs[i].Key == kvs[i-1].Key {
			return nil, fmt.Errorf("duplicate key %q", kvs[i].Key)
		}
	}
	return kvs, nil
}

// checkListing verifies that the keys of an authenticated listing are ascending,
// distinct and start with prefix: what the protocol promises for a Get.
func checkListing(prefix string, kvs []*lsspb.KeyValue) error {
	for i, kv := range kvs {
		if !strings.HasPrefix(kv.GetKey(), prefix) {
			return fmt.Errorf("%w: key %q is outside prefix %q", ErrInvalidReply, kv.GetKey(), prefix)
		}
		if i > 0 && cmp.Compare(kvs[i-1].GetKey(), kv.GetKey()) >= 0 {
			return fmt.Errorf("%w: key %q after %q: keys not ascending and distinct",
				ErrInvalidReply, kv.GetKey(), kvs[i-1].GetKey())
		}
	}
	return nil
}

// openAll verifies every value (MAC with its txid, proof if any; carrier first if
// read through the base protocol in the quorum format). Values that verify
// become entries; the rest are returned as tampered and never as data.
func (c *Client) openAll(kvs []*lsspb.KeyValue, viaBase bool) (entries []Entry, tampered []KeyVersion) {
	entries = make([]Entry, 0, len(kvs))
	s := c.newSealer()
	for _, kv := range kvs {
		e, err := c.entryOf(kv, viaBase)
		if err == nil {
			err = s.verify(&e)
		}
		if err != nil {
			tampered = append(tampered, KeyVersion{Key: kv.GetKey(), Version: kv.GetVersion()})
			continue
		}
		entries = append(entries, e)
	}
	return entries, tampered
}

// conflictsOf converts stored key-values reported by a server, opening each value
// that verifies (Value stays nil otherwise: a conflict is advice, not data).
// reservedBy maps keys to the txid reserving them.
func (c *Client) conflictsOf(kvs []*lsspb.KeyValue, reservedBy map[string][]byte, viaBase bool) []Conflict {
	out := make([]Conflict, len(kvs))
	s := c.newSealer()
	for i, kv := range kvs {
		out[i] = Conflict{Key: kv.GetKey(), Version: kv.GetVersion(), Stored: kv.GetValue(), ReservedBy: reservedBy[kv.GetKey()]}
		if kv.GetVersion() < 0 {
			continue
		}
		e, err := c.entryOf(kv, viaBase)
		if err != nil {
			continue
		}
		out[i].Stored, out[i].TxID, out[i].Proof = e.Stored, e.TxID, e.Proof
		if s.verify(&e) == nil {
			out[i].Value, out[i].Certified = e.Value, e.Certified
		}
	}
	return out
}
