package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lssquorum/lss/proto/wire"
)

// Sentinel errors. A returned error wraps at most one of them; test with errors.Is.
var (
	// ErrConflict: a Put or Prepare was refused by the version rule or a
	// reservation. The error is also a *ConflictError with the details.
	ErrConflict = errors.New("version conflict")
	// ErrServerHMAC: a reply's server HMAC did not verify. The reply was forged,
	// tampered with or corrupted; nothing in it is used.
	ErrServerHMAC = errors.New("server HMAC mismatch")
	// ErrValueHMAC: a stored value's HMAC did not verify. The error is also a
	// *TamperedError naming the keys.
	ErrValueHMAC = wire.ErrValueHMAC
	// ErrInvalidReply: an authenticated reply breaks the protocol (keys out of
	// order, duplicated or outside the prefix, an impossible state). The server
	// itself is faulty.
	ErrInvalidReply = errors.New("invalid reply")
	// ErrServerIDMismatch: the server's server_id is not the pinned one.
	ErrServerIDMismatch = errors.New("server_id does not match the pinned one")
	// ErrUnavailable: the server could not be reached or did not answer in time.
	ErrUnavailable = errors.New("unavailable")
	// ErrNotSupported: a server not pinned as an extension server (a stock
	// server, or one whose capability is being found out) does not implement an
	// extension RPC.
	ErrNotSupported = errors.New("extension not supported by server")
	// ErrNotExtension: a server pinned as an extension server
	// (Options.Extension) answered an extension RPC with UNIMPLEMENTED. The
	// provider is faulty (or someone answers for it): the error also wraps
	// ErrInvalidReply, and nothing falls back to the base protocol.
	ErrNotExtension = errors.New("server pinned as an extension server answers UNIMPLEMENTED")
	// ErrTxUnknown: Commit of a txid the server never prepared.
	ErrTxUnknown = errors.New("transaction unknown to server")
	// ErrCommitAborted: Commit of a txid the server holds as aborted (or
	// fenced); it can never be committed there. (quorum.ErrTxAborted is another
	// thing: the outcome of an atomic put.)
	ErrCommitAborted = errors.New("transaction aborted")
	// ErrTxCommitted: Abort of a txid the server holds as committed.
	ErrTxCommitted = errors.New("transaction committed")
	// ErrListingChanged: a paged Get saw the server's generation change between
	// pages on every try (Options.MaxListingRestarts): writes kept landing
	// during the listing, or the server lies about its generation. No listing is
	// returned rather than one stitched from two states.
	ErrListingChanged = errors.New("listing changed while it was paged")
)

// Error is every error a Client returns: which provider, which operation, what.
type Error struct {
	Provider string
	Op       string
	Err      error
}

// Error reads "provider NAME: OP: cause".
func (e *Error) Error() string {
	return fmt.Sprintf("provider %s: %s: %v", e.Provider, e.Op, e.Err)
}

// Unwrap gives errors.Is and errors.As the cause.
func (e *Error) Unwrap() error { return e.Err }

// KeyVersion names one stored value.
type KeyVersion struct {
	Key     string
	Version int64
}

// TamperedError lists the values whose value HMAC failed. errors.Is(err,
// ErrValueHMAC) is true for it.
type TamperedError struct {
	Provider string
	Keys     []KeyVersion
}

// Error lists the keys and versions whose value HMAC failed.
func (e *TamperedError) Error() string {
	parts := make([]string, len(e.Keys))
	for i, kv := range e.Keys {
		parts[i] = fmt.Sprintf("%q version %d", kv.Key, kv.Version)
	}
	return fmt.Sprintf("%v on %s: %s", ErrValueHMAC, e.Provider, strings.Join(parts, ", "))
}

// Is makes errors.Is(err, ErrValueHMAC) hold.
func (e *TamperedError) Is(target error) bool { return target == ErrValueHMAC }

// Conflict is one key that stopped a Put, Prepare or Restore: what the server
// holds for it.
type Conflict struct {
	Key string
	// Version is the stored version, -1 if the key is absent.
	Version int64
	// Value is the plain stored value if its value HMAC verifies, else nil.
	Value []byte
	// Stored is the value exactly as the server returned it.
	Stored []byte
	// ReservedBy is the txid of the prepared transaction holding the key, when
	// that is the cause.
	ReservedBy []byte
	// TxID and Proof are what the server holds with the stored value (an
	// extension reply, or a carrier); Certified is set when Value verified and
	// Proof is a valid commit proof.
	TxID      []byte
	Proof     []byte
	Certified bool
}

// ConflictError is a refused Put or Prepare. errors.Is(err, ErrConflict) holds.
type ConflictError struct {
	Provider  string
	Conflicts []Conflict
}

// Error lists each conflicting key with its stored version.
func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		parts[i] = fmt.Sprintf("%q stored version %d", c.Key, c.Version)
		if len(c.ReservedBy) > 0 {
			parts[i] += fmt.Sprintf(" reserved by tx %x", c.ReservedBy)
		}
	}
	return fmt.Sprintf("%v on %s: %s", ErrConflict, e.Provider, strings.Join(parts, ", "))
}

// Is makes errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// fail wraps err as this client's *Error for op.
func (c *Client) fail(op string, err error) error {
	return &Error{Provider: c.name, Op: op, Err: err}
}

// rpcError turns a gRPC error into one the caller can test with errors.Is, while
// keeping the gRPC status reachable (status.Code still works through the chain).
// codeErrs maps operation-specific status codes to sentinels.
func rpcError(ctx context.Context, err error, codeErrs map[codes.Code]error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if sentinel, found := codeErrs[st.Code()]; found {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		return newUnavailable(st, err)
	case codes.Canceled:
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	}
	return err
}

// extensionCodes maps Unimplemented to ErrNotSupported for extension RPCs.
var extensionCodes = map[codes.Code]error{codes.Unimplemented: ErrNotSupported}

// errNotExtension is what an UNIMPLEMENTED answer means from a server pinned as
// an extension server: a protocol violation.
var errNotExtension = fmt.Errorf("%w (%w)", ErrNotExtension, ErrInvalidReply)

// extCodes returns codeErrs with UNIMPLEMENTED mapped as the pinned capability
// says: ErrNotSupported for a server not pinned as an extension server,
// ErrNotExtension for one that is.
func (c *Client) extCodes(codeErrs map[codes.Code]error) map[codes.Code]error {
	out := make(map[codes.Code]error, len(codeErrs)+1)
	for code, err := range codeErrs {
		out[code] = err
	}
	out[codes.Unimplemented] = ErrNotSupported
	if c.ext {
		out[codes.Unimplemented] = errNotExtension
	}
	return out
}
