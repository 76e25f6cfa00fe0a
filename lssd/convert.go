package lssd

import (
	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
)

// Conversions between wire messages and store types. The base protocol's
// messages (Get, Put) never carry a key-value's txid and proof, so that they stay
// byte for byte the Rust protocol's; the extension's carry them as stored.

// toStoreKVs converts a request's key-values, txid and proof included (the store
// refuses them where they do not belong).
func toStoreKVs(kvs []*lsspb.KeyValue) []store.KV {
	out := make([]store.KV, len(kvs))
	for i, kv := range kvs {
		out[i] = store.KV{Key: kv.GetKey(), Version: kv.GetVersion(), Value: kv.GetValue(), TxID: kv.GetTxid(), Proof: kv.GetProof()}
	}
	return out
}

// toWireKVs converts stored key-values for an extension reply: with txid and proof.
func toWireKVs(kvs []store.KV) []*lsspb.KeyValue {
	out := make([]*lsspb.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = &lsspb.KeyValue{Key: kv.Key, Version: kv.Version, Value: kv.Value, Txid: kv.TxID, Proof: kv.Proof}
	}
	return out
}

// toBaseKVs converts stored key-values for a base Get reply: key, version, value.
func toBaseKVs(kvs []store.KV) []*lsspb.KeyValue {
	out := make([]*lsspb.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = &lsspb.KeyValue{Key: kv.Key, Version: kv.Version, Value: kv.Value}
	}
	return out
}

// conflictKV is what the base protocol reports for a conflict: the key, its stored
// version (-1 if absent) and stored value (empty if absent).
func conflictKV(c store.Conflict) *lsspb.KeyValue {
	return &lsspb.KeyValue{Key: c.Key, Version: c.Version, Value: c.Value}
}

// extConflictKV is what the extension reports for a conflict or a key a Restore
// kept: conflictKV plus the stored txid and proof, which the reply's MAC covers.
func extConflictKV(c store.Conflict) *lsspb.KeyValue {
	kv := conflictKV(c)
	kv.Txid, kv.Proof = c.TxID, c.Proof
	return kv
}

func toWireConflicts(cs []store.Conflict) []*lsspb.Conflict {
	out := make([]*lsspb.Conflict, len(cs))
	for i, c := range cs {
		out[i] = &lsspb.Conflict{Stored: extConflictKV(c), ReservedBy: c.ReservedBy}
	}
	return out
}

// putConflicts splits store conflicts into the base reply's conflicts (every one,
// in request order) and the extension's reservations (those held by a txid).
func putConflicts(cs []store.Conflict) (conflicts []*lsspb.KeyValue, reservations []*lsspb.Conflict) {
	for _, c := range cs {
		conflicts = append(conflicts, conflictKV(c))
		if len(c.ReservedBy) > 0 {
			reservations = append(reservations, &lsspb.Conflict{Stored: conflictKV(c), ReservedBy: c.ReservedBy})
		}
	}
	return conflicts, reservations
}

func toWireTransactions(recs []store.Record) []*lsspb.Transaction {
	out := make([]*lsspb.Transaction, len(recs))
	for i, r := range recs {
		out[i] = &lsspb.Transaction{
			Txid:          r.TxID,
			State:         lsspb.TxState(r.State),
			Kvs:           toWireKVs(r.KVs),
			UpdatedUnixMs: r.Updated.UnixMilli(),
			Participants:  r.Quorum.Participants,
			WriteQuorum:   int32(r.Quorum.W),
			Seal:          r.Seal,
		}
	}
	return out
}
