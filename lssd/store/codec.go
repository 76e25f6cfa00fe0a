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

// EncodeValue lays out a stored value as version (int64 BE) || value.
func EncodeValue(version int64, value []byte) []byte {
	out := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(out, uint64(version))
	copy(out[8:], value)
	return out
}

// DecodeValue reverses EncodeValue. The returned value is a copy.
func DecodeValue(key string, b []byte) (KV, error) {
	if len(b) < 8 {
		return KV{}, fmt.Errorf("store: corrupt value for key %q: %d bytes", key, len(b))
	}
	return KV{Key: key, Version: int64(binary.BigEndian.Uint64(b)), Value: append([]byte{}, b[8:]...)}, nil
}

// EncodeRecord lays out a transaction record as a protobuf lss.Transaction.
func EncodeRecord(rec Record) ([]byte, error) {
	tx := &lsspb.Transaction{
		Txid:          rec.TxID,
		State:         lsspb.TxState(rec.State),
		UpdatedUnixMs: rec.Updated.UnixMilli(),
		Participants:  rec.Quorum.Participants,
		WriteQuorum:   int32(rec.Quorum.W),
	}
	for _, kv := range rec.KVs {
		tx.Kvs = append(tx.Kvs, &lsspb.KeyValue{Key: kv.Key, Version: kv.Version, Value: kv.Value})
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
	}
	for _, kv := range tx.GetKvs() {
		rec.KVs = append(rec.KVs, KV{Key: kv.GetKey(), Version: kv.GetVersion(), Value: kv.GetValue()})
	}
	return rec, nil
}
