package store

import (
	"bytes"
	"errors"
	"slices"
	"time"
)

// KV is one stored key-value. Value is opaque to the server (for the quorum
// client it is plain value || value HMAC). TxID is the transaction that wrote this
// version (empty for a plain put) and Proof the client's commit proof for it (empty
// if none): both are opaque too, set by Commit and Restore, never by Put.
type KV struct {
	Key     string
	Version int64
	Value   []byte
	TxID    []byte
	Proof   []byte
}

// Conflict is one key that stopped a Put, Prepare or Restore: what the server holds
// for it. Version is -1 and Value, TxID and Proof empty when the key is absent.
// ReservedBy is the txid of a prepared transaction holding the key, when that is
// the cause.
type Conflict struct {
	Key        string
	Version    int64
	Value      []byte
	TxID       []byte
	Proof      []byte
	ReservedBy []byte
}

// TxState is what the server holds for one txid. It only moves forward:
// Unknown → Prepared → Committed, and Unknown or Prepared → Aborted.
type TxState int

// The states of a txid; the numbers match lsspb.TxState.
const (
	TxUnknown TxState = iota
	TxPrepared
	TxCommitted
	TxAborted
)

func (s TxState) String() string {
	switch s {
	case TxUnknown:
		return "unknown"
	case TxPrepared:
		return "prepared"
	case TxCommitted:
		return "committed"
	case TxAborted:
		return "aborted"
	}
	return "invalid"
}

// Record is the server's durable record of one txid.
type Record struct {
	TxID  []byte
	State TxState
	// KVs are the transaction's writes, kept while prepared; decided records keep
	// none.
	KVs     []KV
	Updated time.Time
	// Quorum is what the coordinator recorded with the Prepare; kept once the
	// transaction is decided.
	Quorum Quorum
	// Seal is the client's prepare seal, opaque, sent with the Prepare; kept once
	// the transaction is decided.
	Seal []byte
}

// MaxParticipants bounds the participants of one transaction.
const MaxParticipants = 255

// Quorum is who decides a transaction and how: committed once prepared on W of
// the Participants, aborted once fenced on len(Participants) − W + 1 of them.
// Participants are the server_ids of the providers taking part, in ascending byte
// order. Recorded with the prepare so that every recovery counts the same
// providers with the same thresholds. The zero Quorum means none was recorded.
type Quorum struct {
	Participants [][]byte
	W            int
}

// IsZero reports whether no quorum was recorded.
func (q Quorum) IsZero() bool { return len(q.Participants) == 0 && q.W == 0 }

// Equal reports whether q and o record the same participants and W.
func (q Quorum) Equal(o Quorum) bool {
	return q.W == o.W && slices.EqualFunc(q.Participants, o.Participants, bytes.Equal)
}

// Errors returned by Store. The server maps each to a gRPC status.
var (
	// ErrInvalid is bad input: unsorted or duplicate keys, a bad txid.
	ErrInvalid = errors.New("invalid request")
	// ErrTxUnknown: Commit of a txid the server never prepared.
	ErrTxUnknown = errors.New("transaction unknown")
	// ErrCommitAborted: Commit of a txid held aborted (or fenced); it can never
	// be committed. (quorum.ErrTxAborted is another thing: the outcome of an
	// atomic put.)
	ErrCommitAborted = errors.New("transaction aborted")
	// ErrTxCommitted: Abort of a committed txid.
	ErrTxCommitted = errors.New("transaction committed")
	// ErrTxMismatch: Prepare of a prepared txid with different writes.
	ErrTxMismatch = errors.New("transaction prepared with different writes or quorum")
)
