package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/protobuf/proto"
)

// Encodings shared by the backends that store bytes, so that every backend lays out
// a value and a record the same way.

// extendedLayout is the first byte of a value in the extended layout. The
// original layout starts with the version's big-endian sign byte, which is below
// 0x80 for every version the store writes (the version rule and Restore never
// store a negative one), so values written before the txid existed decode
// unchanged.
const extendedLayout = 0x80

// EncodeValue lays out a stored key-value (its key is stored apart). A kv without
// txid and proof and with a non-negative version uses the original layout,
// version (int64 BE) || value; any other is the extended layout 0x80 || version
// (int64 BE) || uvarint len(txid) || txid || uvarint len(proof) || proof || value.
func EncodeValue(kv KV) []byte {
	return AppendValue(make([]byte, 0, EncodedValueLen(kv)), kv)
}

// plainLayout says whether kv is laid out in the original layout.
func plainLayout(kv KV) bool { return len(kv.TxID) == 0 && len(kv.Proof) == 0 && kv.Version >= 0 }

// EncodedValueLen is len(EncodeValue(kv)).
func EncodedValueLen(kv KV) int {
	if plainLayout(kv) {
		return 8 + len(kv.Value)
	}
	return 9 + uvarintLen(len(kv.TxID)) + len(kv.TxID) + uvarintLen(len(kv.Proof)) + len(kv.Proof) + len(kv.Value)
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

// AppendValue appends EncodeValue(kv) to b, for a caller that lays values out
// in a buffer of its own (bolt's commit journal).
func AppendValue(b []byte, kv KV) []byte {
	if plainLayout(kv) {
		b = binary.BigEndian.AppendUint64(b, uint64(kv.Version))
		return append(b, kv.Value...)
	}
	b = append(b, extendedLayout)
	b = binary.BigEndian.AppendUint64(b, uint64(kv.Version))
	b = binary.AppendUvarint(b, uint64(len(kv.TxID)))
	b = append(b, kv.TxID...)
	b = binary.AppendUvarint(b, uint64(len(kv.Proof)))
	b = append(b, kv.Proof...)
	return append(b, kv.Value...)
}

// StatValue is the version and value length of an encoded value (EncodeValue),
// with the checks of DecodeValue, without copying anything.
func StatValue(key string, b []byte) (version int64, valueLen int, err error) {
	switch {
	case len(b) < 8:
		return 0, 0, fmt.Errorf("store: corrupt value for key %q: %d bytes", key, len(b))
	case b[0] < extendedLayout:
		return int64(binary.BigEndian.Uint64(b)), len(b) - 8, nil
	case b[0] != extendedLayout || len(b) < 9:
		return 0, 0, fmt.Errorf("store: corrupt value for key %q: unknown layout %#x", key, b[0])
	}
	rest := b[9:]
	for _, what := range []string{"txid", "proof"} {
		n, size := binary.Uvarint(rest)
		if size <= 0 || n > uint64(len(rest)-size) {
			return 0, 0, fmt.Errorf("store: corrupt value for key %q: bad %s length", key, what)
		}
		rest = rest[size+int(n):]
	}
	return int64(binary.BigEndian.Uint64(b[1:])), len(rest), nil
}

// DecodeValue reverses EncodeValue. The returned slices are copies.
func DecodeValue(key string, b []byte) (KV, error) {
	switch {
	case len(b) < 8:
		return KV{}, fmt.Errorf("store: corrupt value for key %q: %d bytes", key, len(b))
	case b[0] < extendedLayout:
		return KV{Key: key, Version: int64(binary.BigEndian.Uint64(b)), Value: append([]byte{}, b[8:]...)}, nil
	case b[0] != extendedLayout || len(b) < 9:
		return KV{}, fmt.Errorf("store: corrupt value for key %q: unknown layout %#x", key, b[0])
	}
	kv := KV{Key: key, Version: int64(binary.BigEndian.Uint64(b[1:]))}
	rest := b[9:]
	var err error
	if kv.TxID, rest, err = decodeField(key, "txid", rest); err != nil {
		return KV{}, err
	}
	if kv.Proof, rest, err = decodeField(key, "proof", rest); err != nil {
		return KV{}, err
	}
	kv.Value = append([]byte{}, rest...)
	return kv, nil
}

// decodeField reads one uvarint-length-prefixed field and returns a copy of it
// (nil when empty, as a kv without the field has).
func decodeField(key, what string, b []byte) (field, rest []byte, err error) {
	n, size := binary.Uvarint(b)
	if size <= 0 || n > uint64(len(b)-size) {
		return nil, nil, fmt.Errorf("store: corrupt value for key %q: bad %s length", key, what)
	}
	b = b[size:]
	if n > 0 {
		field = append([]byte(nil), b[:n]...)
	}
	return field, b[n:], nil
}

// EncodeRecord lays out a transaction record as a protobuf lss.Transaction.
func EncodeRecord(rec Record) ([]byte, error) {
	tx := &lsspb.Transaction{
		Txid:          rec.TxID,
		State:         lsspb.TxState(rec.State),
		UpdatedUnixMs: rec.Updated.UnixMilli(),
		Participants:  rec.Quorum.Participants,
		WriteQuorum:   int32(rec.Quorum.W),
		Seal:          rec.Seal,
	}
	if len(rec.KVs) > 0 {
		// One allocation for the messages, none to grow the list.
		msgs := make([]lsspb.KeyValue, len(rec.KVs))
		tx.Kvs = make([]*lsspb.KeyValue, len(rec.KVs))
		for i, kv := range rec.KVs {
			m := &msgs[i]
			m.Key, m.Version, m.Value, m.Txid, m.Proof = kv.Key, kv.Version, kv.Value, kv.TxID, kv.Proof
			tx.Kvs[i] = m
		}
	}
	return proto.Marshal(tx)
}

// DecodeRecord reverses EncodeRecord.
func DecodeRecord(b []byte) (Record, error) {
	var tx lsspb.Transaction
	if err := proto.Unmarshal(b, &tx); err != nil {
		return Record{}, fmt.Errorf("store: corrupt transaction record: %w", err)
	}
	rec := Record{
		TxID:    tx.GetTxid(),
		State:   TxState(tx.GetState()),
		Updated: time.UnixMilli(tx.GetUpdatedUnixMs()),
		Quorum:  Quorum{Participants: tx.GetParticipants(), W: int(tx.GetWriteQuorum())},
		Seal:    tx.GetSeal(),
	}
	if n := len(tx.GetKvs()); n > 0 {
		rec.KVs = make([]KV, n)
		for i, kv := range tx.GetKvs() {
			rec.KVs[i] = KV{Key: kv.GetKey(), Version: kv.GetVersion(), Value: kv.GetValue(), TxID: kv.GetTxid(), Proof: kv.GetProof()}
		}
	}
	return rec, nil
}
