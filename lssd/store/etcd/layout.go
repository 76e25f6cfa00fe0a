package etcd

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/lssquorum/lss/lssd/store"
)

// layout names the etcd keys of one client's namespace.
type layout struct{ root string }

func newLayout(prefix string, client []byte) layout {
	// Hex has no '/', so one client's root is never a prefix of another's.
	return layout{root: prefix + hex.EncodeToString(client) + "/"}
}

func (l layout) entryPrefix() string          { return l.root + "d/" }
func (l layout) entryKey(key string) string   { return l.root + "d/" + key }
func (l layout) recordPrefix() string         { return l.root + "t/" }
func (l layout) recordKey(txid []byte) string { return l.root + "t/" + string(txid) }
func (l layout) seqKey() string               { return l.root + "seq" }
func (l layout) keyOf(entryKey string) string { return entryKey[len(l.entryPrefix()):] }
func schemaKey(prefix string) string          { return prefix + "schema" }

// entry is what one etcd key under "d/" holds for one LSS key: its stored value, if
// any, and the prepared transaction reserving it, if any.
type entry struct {
	hasValue bool
	kv       store.KV
	reserved []byte // nil if not reserved
}

// Flags in an encoded entry's first byte.
const (
	flagValue    = 1
	flagReserved = 2
)

// empty reports whether the entry holds nothing, so its etcd key is deleted.
func (e entry) empty() bool { return !e.hasValue && e.reserved == nil }

// encodeEntry lays out e as flags || [uvarint len(txid) || txid] || [store.EncodeValue].
func encodeEntry(e entry) []byte {
	var flags byte
	out := []byte{0}
	if e.reserved != nil {
		flags |= flagReserved
		out = binary.AppendUvarint(out, uint64(len(e.reserved)))
		out = append(out, e.reserved...)
	}
	if e.hasValue {
		flags |= flagValue
		out = append(out, store.EncodeValue(e.kv)...)
	}
	out[0] = flags
	return out
}

// decodeEntry reverses encodeEntry; the result shares no memory with b.
func decodeEntry(key string, b []byte) (entry, error) {
	if len(b) == 0 || b[0]&^(flagValue|flagReserved) != 0 {
		return entry{}, fmt.Errorf("etcd store: corrupt entry for key %q", key)
	}
	flags, rest := b[0], b[1:]
	var e entry
	if flags&flagReserved != 0 {
		n, size := binary.Uvarint(rest)
		if size <= 0 || n > uint64(len(rest)-size) {
			return entry{}, fmt.Errorf("etcd store: corrupt reservation for key %q", key)
		}
		e.reserved = append([]byte{}, rest[size:size+int(n)]...)
		rest = rest[size+int(n):]
	}
	if flags&flagValue != 0 {
		kv, err := store.DecodeValue(key, rest)
		if err != nil {
			return entry{}, err
		}
		e.hasValue, e.kv = true, kv
	} else if len(rest) != 0 {
		return entry{}, fmt.Errorf("etcd store: corrupt entry for key %q: %d trailing bytes", key, len(rest))
	}
	return e, nil
}
