package store

import (
	"bytes"
	"fmt"
)

// CheckKeys requires keys in strictly ascending byte order, which also rules out
// duplicates (the Rust server lets a duplicate through and the second silently wins;
// we refuse it). A negative version is not an error here: the version rule reports
// it as a conflict, as the Rust server does.
func CheckKeys(kvs []KV) error {
	for i, kv := range kvs {
		if i == 0 {
			continue
		}
		switch prev := kvs[i-1].Key; {
		case kv.Key == prev:
			return fmt.Errorf("%w: duplicate key %q", ErrInvalid, kv.Key)
		case kv.Key < prev:
			return fmt.Errorf("%w: keys not in ascending order: %q after %q", ErrInvalid, kv.Key, prev)
		}
	}
	return nil
}

// CheckTxID requires a txid of MinTxIDLen to MaxTxIDLen bytes.
func CheckTxID(txid []byte) error {
	if len(txid) < MinTxIDLen || len(txid) > MaxTxIDLen {
		return fmt.Errorf("%w: txid of %d bytes, want %d to %d", ErrInvalid, len(txid), MinTxIDLen, MaxTxIDLen)
	}
	return nil
}

// checkRestoreVersions refuses negative versions, which Restore would otherwise
// write over an absent key.
func checkRestoreVersions(kvs []KV) error {
	for _, kv := range kvs {
		if kv.Version < 0 {
			return fmt.Errorf("%w: key %q has negative version %d", ErrInvalid, kv.Key, kv.Version)
		}
	}
	return nil
}

// CheckQuorum requires the zero Quorum, or 1 <= W <= len(Participants) <=
// MaxParticipants with participants of 1 to 64 bytes (a server_id is 33) in strictly
// ascending order, so that each quorum has one encoding.
func CheckQuorum(q Quorum) error {
	if q.IsZero() {
		return nil
	}
	n := len(q.Participants)
	if q.W < 1 || q.W > n || n > MaxParticipants {
		return fmt.Errorf("%w: quorum of %d of %d participants, want 1 <= quorum <= participants <= %d",
			ErrInvalid, q.W, n, MaxParticipants)
	}
	for i, p := range q.Participants {
		if len(p) == 0 || len(p) > 64 {
			return fmt.Errorf("%w: quorum participant %d is %d bytes", ErrInvalid, i, len(p))
		}
		if i > 0 && bytes.Compare(q.Participants[i-1], p) >= 0 {
			return fmt.Errorf("%w: quorum participants not in strictly ascending order", ErrInvalid)
		}
	}
	return nil
}

// Bounds of the opaque v2 fields. A commit proof and a prepare seal are 32-byte
// HMACs; the bound leaves room for another construction without letting a client
// store arbitrary data beside every value.
const (
	MaxProofLen = 64
	MaxSealLen  = 64
)

// checkNoTxFields refuses kvs carrying a txid or proof in a request (Put, Prepare)
// whose MAC does not cover them or whose writes get them only at Commit.
func checkNoTxFields(op string, kvs []KV) error {
	for _, kv := range kvs {
		if len(kv.TxID) > 0 || len(kv.Proof) > 0 {
			return fmt.Errorf("%w: %s of key %q carries a txid or proof; only Commit and Restore store them", ErrInvalid, op, kv.Key)
		}
	}
	return nil
}

// checkRestoreTxFields requires each kv's txid to be empty or a valid txid, and a
// proof to come with a txid and be at most MaxProofLen bytes.
func checkRestoreTxFields(kvs []KV) error {
	for _, kv := range kvs {
		if len(kv.TxID) > 0 {
			if err := CheckTxID(kv.TxID); err != nil {
				return fmt.Errorf("key %q: %w", kv.Key, err)
			}
		} else if len(kv.Proof) > 0 {
			return fmt.Errorf("%w: key %q has a proof but no txid", ErrInvalid, kv.Key)
		}
		if len(kv.Proof) > MaxProofLen {
			return fmt.Errorf("%w: key %q has a proof of %d bytes, at most %d", ErrInvalid, kv.Key, len(kv.Proof), MaxProofLen)
		}
	}
	return nil
}

// checkProofs requires each commit proof to have 1 to MaxProofLen bytes.
func checkProofs(proofs [][]byte) error {
	for i, p := range proofs {
		if len(p) == 0 || len(p) > MaxProofLen {
			return fmt.Errorf("%w: commit proof %d is %d bytes, want 1 to %d", ErrInvalid, i, len(p), MaxProofLen)
		}
	}
	return nil
}

// CheckSeal requires a prepare seal of at most MaxSealLen bytes (empty: none).
func CheckSeal(seal []byte) error {
	if len(seal) > MaxSealLen {
		return fmt.Errorf("%w: prepare seal of %d bytes, at most %d", ErrInvalid, len(seal), MaxSealLen)
	}
	return nil
}
