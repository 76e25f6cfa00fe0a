package provider

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// TxState is what a server holds for one txid; it mirrors lsspb.TxState.
type TxState int

// The states of a txid. A server's record only moves forward: Unknown → Prepared
// → Committed, and Unknown or Prepared → Aborted.
const (
	TxUnknown   TxState = TxState(lsspb.TxState_TX_UNKNOWN)
	TxPrepared  TxState = TxState(lsspb.TxState_TX_PREPARED)
	TxCommitted TxState = TxState(lsspb.TxState_TX_COMMITTED)
	TxAborted   TxState = TxState(lsspb.TxState_TX_ABORTED)
)

// String names the state.
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
	return fmt.Sprintf("TxState(%d)", int(s))
}

func txStateOf(s lsspb.TxState) (TxState, error) {
	switch s {
	case lsspb.TxState_TX_UNKNOWN, lsspb.TxState_TX_PREPARED, lsspb.TxState_TX_COMMITTED, lsspb.TxState_TX_ABORTED:
		return TxState(s), nil
	}
	return 0, fmt.Errorf("%w: transaction state %d", ErrInvalidReply, int32(s))
}

// Prepare asks the server to validate es as Put would, then durably record them as
// pending under txid with q (who decides the transaction, see Quorum) and seal
// (the client's prepare seal, PrepareSeal; nil for none), and reserve their keys.
// es are sealed for txid (SealTx); their TxID and Proof are not sent. It returns
// TxPrepared (or TxCommitted if that txid was already committed), TxAborted with a
// nil error if the txid is fenced or aborted, or a *ConflictError if the version
// rule or a reservation refused it. A server not pinned as an extension server
// gives ErrNotSupported for UNIMPLEMENTED, a pinned one ErrNotExtension.
func (c *Client) Prepare(ctx context.Context, txid []byte, q Quorum, seal []byte, es []Entry) (TxState, error) {
	return c.prepare(ctx, txid, q, seal, es)
}

// Quorum is who decides a transaction and how: committed once prepared on W of
// the Participants (server_ids, ascending), aborted once fenced on
// len(Participants) − W + 1 of them. The zero Quorum records none.
type Quorum struct {
	Participants [][]byte
	W            int
}

// IsZero reports whether q records nothing.
func (q Quorum) IsZero() bool { return len(q.Participants) == 0 && q.W == 0 }

// PrepareQuorum is Prepare with q and no seal.
//
// Deprecated: use Prepare, which also records the prepare seal.
func (c *Client) PrepareQuorum(ctx context.Context, txid []byte, q Quorum, es []Entry) (TxState, error) {
	return c.prepare(ctx, txid, q, nil, es)
}

// PrepareSeal returns this client's prepare seal of txid with q and es
// (wire.PrepareSeal over the entries in ascending key order, as Prepare sends
// them).
func (c *Client) PrepareSeal(txid []byte, q Quorum, es []Entry) []byte {
	return c.cert.PrepareSeal(txid, q.Participants, q.W, sealedKVs(es))
}

// VerifyPrepareSeal reports whether seal is this client's prepare seal of txid
// with q and es.
func (c *Client) VerifyPrepareSeal(txid []byte, q Quorum, es []Entry, seal []byte) bool {
	return c.cert.VerifyPrepareSeal(txid, q.Participants, q.W, sealedKVs(es), seal)
}

// sealedKVs is es as the seal covers them: key, version and stored bytes, in
// ascending key order.
func sealedKVs(es []Entry) []*lsspb.KeyValue {
	kvs := make([]*lsspb.KeyValue, len(es))
	for i, e := range es {
		kvs[i] = &lsspb.KeyValue{Key: e.Key, Version: e.Version, Value: e.Stored}
	}
	slices.SortStableFunc(kvs, func(a, b *lsspb.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	return kvs
}

func (c *Client) prepare(ctx context.Context, txid []byte, q Quorum, seal []byte, es []Entry) (TxState, error) {
	for _, e := range es {
		if c.format == FormatQuorum && !bytes.Equal(e.TxID, txid) {
			// Its value MAC binds another txid (or none): once committed it
			// would read back as tampered.
			return TxUnknown, c.fail("prepare", fmt.Errorf("entry %q is sealed for txid %x, not %x (use SealTx)", e.Key, e.TxID, txid))
		}
	}
	// Key, version and stored bytes only: the txid travels once, in the
	// request, and the server refuses kvs that carry one.
	kvs, err := sortKVs(es, func(Entry, *lsspb.KeyValue) error { return nil })
	if err != nil {
		return TxUnknown, c.fail("prepare", err)
	}
	w := int32(q.W)
	req := &lsspb.PrepareRequest{Auth: c.auth, Txid: txid, Kvs: kvs, Participants: q.Participants, WriteQuorum: w, Seal: seal,
		Hmac: wire.PrepareRequestMAC(c.secret, txid, kvs, q.Participants, w, seal)}
	reply, err := c.rpc.Prepare(ctx, req)
	if err != nil {
		return TxUnknown, c.fail("prepare", rpcError(ctx, err, c.extCodes(nil)))
	}
	state, err := c.checkTxReply(wire.DomainPrepareReply, txid, reply)
	if err != nil {
		return TxUnknown, c.fail("prepare", err)
	}
	if len(reply.GetConflicts()) > 0 {
		stored := make([]*lsspb.KeyValue, len(reply.GetConflicts()))
		reserved := make(map[string][]byte)
		for i, cf := range reply.GetConflicts() {
			stored[i] = cf.GetStored()
			if len(cf.GetReservedBy()) > 0 {
				reserved[cf.GetStored().GetKey()] = cf.GetReservedBy()
			}
		}
		return TxUnknown, c.fail("prepare", &ConflictError{Provider: c.name, Conflicts: c.conflictsOf(stored, reserved, false)})
	}
	if state == TxUnknown {
		return TxUnknown, c.fail("prepare", fmt.Errorf("%w: prepare neither prepared nor refused", ErrInvalidReply))
	}
	return state, nil
}

// Commit applies the writes prepared under txid, which the server stores with the
// txid and proofs: one commit proof per prepared entry, in ascending key order
// (CommitProofs). Send it only once the transaction is decided committed.
// Committing a committed txid succeeds again. ErrTxUnknown: the server never
// prepared it (settle it with Restore); ErrCommitAborted: it was aborted or fenced.
func (c *Client) Commit(ctx context.Context, txid []byte, proofs [][]byte) error {
	state, err := c.txCall(ctx, "commit", c.rpc.Commit, wire.CommitDomains, txid, proofs, map[codes.Code]error{
		codes.NotFound:           ErrTxUnknown,
		codes.FailedPrecondition: ErrCommitAborted,
	})
	if err != nil {
		return err
	}
	return c.expectState("commit", state, TxCommitted)
}

// Fence asks "did you prepare txid?" safely: an unknown txid is recorded as
// aborted so that a late Prepare is refused; a prepared or committed one is left
// as it is. It returns the state after the call.
func (c *Client) Fence(ctx context.Context, txid []byte) (TxState, error) {
	state, err := c.txCall(ctx, "fence", c.rpc.Fence, wire.FenceDomains, txid, nil, nil)
	if err != nil {
		return TxUnknown, err
	}
	if state == TxUnknown {
		return TxUnknown, c.fail("fence", fmt.Errorf("%w: fenced txid still unknown", ErrInvalidReply))
	}
	return state, nil
}

// Abort drops txid if pending and fences it if unknown. ErrTxCommitted: the server
// already committed it. Send it only once abort is decided.
func (c *Client) Abort(ctx context.Context, txid []byte) error {
	state, err := c.txCall(ctx, "abort", c.rpc.Abort, wire.AbortDomains, txid, nil, map[codes.Code]error{
		codes.FailedPrecondition: ErrTxCommitted,
	})
	if err != nil {
		return err
	}
	return c.expectState("abort", state, TxAborted)
}

type txRPC func(context.Context, *lsspb.TxRequest, ...grpc.CallOption) (*lsspb.TxReply, error)

// txCall sends a Commit, Fence or Abort and verifies the reply's MAC.
// codeErrs maps the call's own status codes; UNIMPLEMENTED follows the pinned
// capability (extCodes).
func (c *Client) txCall(ctx context.Context, op string, call txRPC, domains [2]wire.Domain, txid []byte, proofs [][]byte, codeErrs map[codes.Code]error) (TxState, error) {
	req := &lsspb.TxRequest{Auth: c.auth, Txid: txid, Proofs: proofs, Hmac: wire.TxRequestMAC(c.secret, domains[0], txid, proofs)}
	reply, err := call(ctx, req)
	if err != nil {
		return TxUnknown, c.fail(op, rpcError(ctx, err, c.extCodes(codeErrs)))
	}
	state, err := c.checkTxReply(domains[1], txid, reply)
	if err != nil {
		return TxUnknown, c.fail(op, err)
	}
	if len(reply.GetConflicts()) > 0 {
		return TxUnknown, c.fail(op, fmt.Errorf("%w: conflicts in a %s reply", ErrInvalidReply, op))
	}
	return state, nil
}

// checkTxReply verifies a TxReply's MAC in domain d and returns its state.
func (c *Client) checkTxReply(d wire.Domain, txid []byte, reply *lsspb.TxReply) (TxState, error) {
	want := wire.TxReplyMAC(c.secret, d, txid, reply.GetState(), reply.GetConflicts())
	if !wire.Equal(reply.GetHmac(), want) {
		return TxUnknown, ErrServerHMAC
	}
	return txStateOf(reply.GetState())
}

// expectState turns an authenticated but unexpected state into an error.
func (c *Client) expectState(op string, got, want TxState) error {
	switch {
	case got == want:
		return nil
	case op == "commit" && got == TxAborted:
		return c.fail(op, ErrCommitAborted)
	case op == "abort" && got == TxCommitted:
		return c.fail(op, ErrTxCommitted)
	}
	return c.fail(op, fmt.Errorf("%w: %s left the transaction %s", ErrInvalidReply, op, got))
}
