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
// came from a server) and Stored the bytes as stored on the server (the value with
// its HMAC appended, encrypted if the client encrypts).
type Entry struct {
	Key     string
	Version int64
	Value   []byte
	Stored  []byte
}

// Seal returns the stored form of kvs that this client sends, in the same order.
// It is deterministic: the same kvs always seal to the same bytes, so a quorum
// coordinator can send identical entries to every provider.
func (c *Client) Seal(kvs []KV) []Entry {
	m := wire.NewValueMAC(c.hmacSecret)
	es := make([]Entry, len(kvs))
	for i, kv := range kvs {
		es[i] = Entry{Key: kv.Key, Version: kv.Version, Value: kv.Value, Stored: c.seal(m, kv)}
	}
	return es
}

// seal returns the stored form of kv: value HMAC appended, then encrypted if the
// client encrypts. m is reused across the values of one request.
func (c *Client) seal(m *wire.ValueMAC, kv KV) []byte {
	sealed := m.Seal(kv.Key, kv.Version, kv.Value)
	if c.encrypt {
		return wire.XORKeystream(c.hmacSecret, kv.Key, kv.Version, sealed)
	}
	return sealed
}

// open checks and strips the value HMAC of a stored value (decrypting a copy
// first if the client encrypts).
func (c *Client) open(m *wire.ValueMAC, key string, version int64, stored []byte) ([]byte, error) {
	if c.encrypt {
		stored = wire.XORKeystream(c.hmacSecret, key, version, bytes.Clone(stored))
	}
	return m.Open(key, version, stored)
}

// sortedKVs returns the wire form of es in ascending key order, refusing
// duplicate and empty key lists the server would refuse anyway, so the caller
// gets a clear error without a round trip.
func sortedKVs(es []Entry) ([]*lsspb.KeyValue, error) {
	kvs := make([]*lsspb.KeyValue, len(es))
	for i, e := range es {
		kvs[i] = &lsspb.KeyValue{Key: e.Key, Version: e.Version, Value: e.Stored}
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

// openAll verifies every value HMAC. Values that verify become entries; the rest
// are returned as tampered and never as data.
func (c *Client) openAll(kvs []*lsspb.KeyValue) (entries []Entry, tampered []KeyVersion) {
	entries = make([]Entry, 0, len(kvs))
	m := wire.NewValueMAC(c.hmacSecret)
	for _, kv := range kvs {
		plain, err := c.open(m, kv.GetKey(), kv.GetVersion(), kv.GetValue())
		if err != nil {
			tampered = append(tampered, KeyVersion{Key: kv.GetKey(), Version: kv.GetVersion()})
			continue
		}
		entries = append(entries, Entry{Key: kv.GetKey(), Version: kv.GetVersion(), Value: plain, Stored: kv.GetValue()})
	}
	return entries, tampered
}

// conflictsOf converts stored key-values reported by a server, opening each value
// whose HMAC verifies. reservedBy maps keys to the txid reserving them.
func (c *Client) conflictsOf(kvs []*lsspb.KeyValue, reservedBy map[string][]byte) []Conflict {
	out := make([]Conflict, len(kvs))
	m := wire.NewValueMAC(c.hmacSecret)
	for i, kv := range kvs {
		out[i] = Conflict{Key: kv.GetKey(), Version: kv.GetVersion(), Stored: kv.GetValue(), ReservedBy: reservedBy[kv.GetKey()]}
		if kv.GetVersion() >= 0 {
			if plain, err := c.open(m, kv.GetKey(), kv.GetVersion(), kv.GetValue()); err == nil {
				out[i].Value = plain
			}
		}
	}
	return out
}
