package wire

import "github.com/lssquorum/lss/proto/lsspb"

// The MAC of each extension message, named after it, so that client and server
// cannot drift apart. Layouts are documented in lss.proto.

// BoundGetReplyMAC binds a Get reply to its prefix as well as its nonce.
func BoundGetReplyMAC(secret []byte, prefix string, nonce []byte, kvs []*lsspb.KeyValue) []byte {
	return NewExtMAC(secret, DomainBoundGetReply).String(prefix).Bytes(nonce).KVs(kvs).Sum()
}

// RestoreRequestMAC authenticates a Restore.
func RestoreRequestMAC(secret []byte, kvs []*lsspb.KeyValue) []byte {
	return NewExtMAC(secret, DomainRestoreRequest).KVs(kvs).Sum()
}

// RestoreReplyMAC confirms what a Restore applied and kept (with the txid
// reserving each kept key, if any), bound to the request.
func RestoreReplyMAC(secret, requestMAC []byte, applied []string, kept []*lsspb.KeyValue, reservedBy [][]byte) []byte {
	keys := make([]*lsspb.KeyValue, len(applied))
	for i, k := range applied {
		keys[i] = &lsspb.KeyValue{Key: k}
	}
	return NewExtMAC(secret, DomainRestoreReply).Bytes(requestMAC).KVs(keys).KVs(kept).List(reservedBy).Sum()
}

// PrepareRequestMAC authenticates a Prepare: its txid, writes, recorded quorum
// (count as int64, each participant, write quorum as int64; all zero when none is
// recorded) and the client's prepare seal.
func PrepareRequestMAC(secret, txid []byte, kvs []*lsspb.KeyValue, participants [][]byte, writeQuorum int32, seal []byte) []byte {
	m := NewExtMAC(secret, DomainPrepareRequest).Bytes(txid).KVs(kvs)
	return m.quorum(participants, writeQuorum).Bytes(seal).Sum()
}

// quorum adds a recorded quorum: its size, each participant, the write quorum.
func (m *ExtMAC) quorum(participants [][]byte, writeQuorum int32) *ExtMAC {
	m.Int(int64(len(participants)))
	for _, p := range participants {
		m.Bytes(p)
	}
	return m.Int(int64(writeQuorum))
}

// TxRequestMAC authenticates a Commit, Fence or Abort; d is that request's domain.
// proofs (a Commit's commit proofs; none for Fence and Abort) are covered as a
// counted list.
func TxRequestMAC(secret []byte, d Domain, txid []byte, proofs [][]byte) []byte {
	return NewExtMAC(secret, d).Bytes(txid).List(proofs).Sum()
}

// TxReplyMAC authenticates a TxReply; d is the reply's domain.
func TxReplyMAC(secret []byte, d Domain, txid []byte, state lsspb.TxState, conflicts []*lsspb.Conflict) []byte {
	m := NewExtMAC(secret, d).Bytes(txid).Int(int64(state))
	stored := make([]*lsspb.KeyValue, len(conflicts))
	for i, c := range conflicts {
		stored[i] = c.GetStored()
		if stored[i] == nil {
			stored[i] = &lsspb.KeyValue{}
		}
	}
	m.KVs(stored)
	for _, c := range conflicts {
		m.Bytes(c.GetReservedBy())
	}
	return m.Sum()
}

// StatusReplyMAC authenticates a Status reply, bound to the request's nonce.
func StatusReplyMAC(secret, nonce []byte, txs []*lsspb.Transaction) []byte {
	m := NewExtMAC(secret, DomainStatusReply).Bytes(nonce)
	for _, tx := range txs {
		m.transaction(tx)
	}
	return m.Sum()
}

// transaction adds one Status transaction. The quorum part is always there, so
// each transaction's layout is fixed.
func (m *ExtMAC) transaction(tx *lsspb.Transaction) *ExtMAC {
	return m.Bytes(tx.GetTxid()).Int(int64(tx.GetState())).KVs(tx.GetKvs()).Int(tx.GetUpdatedUnixMs()).
		quorum(tx.GetParticipants(), tx.GetWriteQuorum()).Bytes(tx.GetSeal())
}

// RequestDomains maps each TxRequest kind to its request and reply domains.
var (
	CommitDomains = [2]Domain{DomainCommitRequest, DomainCommitReply}
	FenceDomains  = [2]Domain{DomainFenceRequest, DomainFenceReply}
	AbortDomains  = [2]Domain{DomainAbortRequest, DomainAbortReply}
)
