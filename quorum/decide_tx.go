package quorum

import (
	"encoding/binary"
	"time"
)

// The atomic-commit decision rule and every recovery and audit decision, as
// pure functions over what each provider said. The fan-out code in atomic_*.go
// and recover.go only gathers those answers (docs/design.md, "Atomic commit").
//
// A transaction is decided committed when it is prepared (or committed) on at
// least W of its recorded participants, or when a valid commit proof is seen; it
// is decided aborted when it is aborted (fenced) on at least N−W+1. A provider's
// record only moves forward and no provider is both prepared and fenced, so with
// W + (N−W+1) > N the two decisions can never both be reached, whoever counts:
// the live coordinator or any number of recoveries. No single provider's word
// decides anything.

// TxView is what the coordinator knows of one txid on one provider.
type TxView int

// The views of a txid on a provider.
const (
	// TxNoAnswer: the provider did not answer (it may have prepared).
	TxNoAnswer TxView = iota
	// TxNone: the provider answered and holds no record (it never prepared and
	// was never fenced), or refused the prepare by the version rule.
	TxNone
	// TxPrepared: the provider holds the writes, reserved.
	TxPrepared
	// TxCommitted: the provider applied the writes.
	TxCommitted
	// TxAborted: the provider aborted or was fenced; it will never prepare.
	TxAborted
)

func (v TxView) String() string {
	switch v {
	case TxNoAnswer:
		return "no answer"
	case TxNone:
		return "none"
	case TxPrepared:
		return "prepared"
	case TxCommitted:
		return "committed"
	case TxAborted:
		return "aborted"
	}
	return "invalid"
}

// MarshalText spells the view in reports.
func (v TxView) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// Decision is the outcome of a transaction by the decision rule.
type Decision int

// The decisions.
const (
	Undecided Decision = iota
	DecidedCommit
	DecidedAbort
)

func (d Decision) String() string {
	switch d {
	case DecidedCommit:
		return "commit"
	case DecidedAbort:
		return "abort"
	}
	return "undecided"
}

// MarshalText spells the decision in reports.
func (d Decision) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// tally is the one vote count behind every quorum decision: a put's
// acknowledgements (need W), a read's valid replies (need R), a transaction's
// prepares (need W) against its fences. Of n voters, need must say yes; the
// count is lost once more than n − need said no, since the rest cannot make up
// the difference.
type tally struct {
	n, need int
	yes, no int
}

// won reports whether need voters said yes.
func (t tally) won() bool { return t.yes >= t.need }

// lost reports whether need can no longer be reached: n − need + 1 said no.
func (t tally) lost() bool { return t.no >= t.n-t.need+1 }

// done reports whether the outcome is known or every voter answered.
func (t tally) done() bool { return t.won() || t.lost() || t.yes+t.no >= t.n }

// decide applies the decision rule to the views of the n providers that take
// part in the transaction, with write quorum w: committed once prepared (or
// committed) on w, aborted once fenced on n − w + 1. A provider that says
// "committed" counts as one prepared vote, no more: one provider's word never
// decides anything (only a valid commit proof does, see decideVotes).
func decide(n, w int, views []TxView) Decision {
	t := tally{n: n, need: w}
	for _, v := range views {
		switch v {
		case TxCommitted, TxPrepared:
			t.yes++
		case TxAborted:
			t.no++
		}
	}
	switch {
	case t.won():
		return DecidedCommit
	case t.lost():
		return DecidedAbort
	}
	return Undecided
}

// txVote is one recorded participant's view of a txid with what authenticates
// it, as a recovery counts it.
type txVote struct {
	View TxView
	// Seal is the prepare seal the provider returned with its prepared or
	// committed record; nil if none.
	Seal []byte
	// SealOK says Seal verifies (under the client's seal key) against the
	// record's txid, quorum and entries: the client made this prepare.
	SealOK bool
	// ProofOK says the provider showed a valid commit proof of this txid: the
	// client issued it only after the commit was decided.
	ProofOK bool
}

// decideVotes is the commit rule over authenticated views, with the quorum
// (n participants, write quorum w) the valid seal records:
//   - committed once any vote carries a valid commit proof, or once w votes
//     show the transaction prepared or committed with the same valid seal (two
//     views agree iff their seals are equal);
//   - aborted once fenced on n − w + 1;
//   - undecided otherwise.
//
// A prepared or committed view without a valid seal counts for nothing: a
// provider can keep what it was sent, or forge records with its own key, but it
// cannot make a seal or a proof.
func decideVotes(n, w int, votes []txVote) Decision {
	groups := map[string]int{}
	t := tally{n: n, need: w}
	for _, v := range votes {
		if v.ProofOK {
			return DecidedCommit
		}
		switch v.View {
		case TxPrepared, TxCommitted:
			if v.SealOK {
				groups[string(v.Seal)]++
				t.yes = max(t.yes, groups[string(v.Seal)])
			}
		case TxAborted:
			t.no++
		}
	}
	switch {
	case t.won():
		return DecidedCommit
	case t.lost():
		return DecidedAbort
	}
	return Undecided
}

// authenticate applies the seal rule to the records of one txid, given as
// votes whose SealOK says, for a prepared record, that its seal verifies over
// its txid, recorded quorum and entries. A committed record keeps no entries to
// verify its seal against: it counts (SealOK in the result) only if its seal
// equals one a verified prepared record carries. Any other committed or prepared
// record counts for nothing. trusted is the one seal the verified prepared
// records carry (nil if none); conflict says they carry several, which only a
// faulty coordinator could make (it seals each txid once), so no quorum or
// entries can be taken from them.
func authenticate(in []txVote) (out []txVote, trusted []byte, conflict bool) {
	out = make([]txVote, len(in))
	for _, v := range in {
		if v.View != TxPrepared || !v.SealOK {
			continue
		}
		switch {
		case trusted == nil:
			trusted = v.Seal
		case string(trusted) != string(v.Seal):
			conflict = true
		}
	}
	for i, v := range in {
		out[i] = v
		switch v.View {
		case TxPrepared:
			out[i].SealOK = v.SealOK && len(v.Seal) > 0
		case TxCommitted:
			out[i].SealOK = trusted != nil && !conflict && len(v.Seal) > 0 && string(v.Seal) == string(trusted)
		default:
			out[i].SealOK = false
		}
	}
	if conflict {
		trusted = nil
	}
	return out, trusted, conflict
}

// isSplit says whether views of the n recorded participants of a txid with
// write quorum w show both decisions: committed on one, and aborted on the
// n − w + 1 that decide an abort. Honest providers cannot produce this (a
// committed transaction merely fenced on a provider that never prepared it has
// fewer fences); it means some provider rolled back its transaction records, or
// one provider's "committed" is false.
func isSplit(n, w int, views []TxView) bool {
	t := tally{n: n, need: w}
	committed := false
	for _, v := range views {
		switch v {
		case TxCommitted:
			committed = true
		case TxAborted:
			t.no++
		}
	}
	return committed && t.lost()
}

// youngTx says whether a transaction is so young that its coordinator may
// still be deciding it: its txid's timestamp (see TxIDSize) is less than window
// before now. A recovery in another process leaves such transactions to their
// coordinator, so it never fences the prepares of a live put. A timestamp more
// than window in the future is not trusted to mean young (a txid from before
// txids carried a time, or a wrong clock): the transaction is treated as old,
// which is safe, since any recovery decides the same way.
func youngTx(txid []byte, now time.Time, window time.Duration) bool {
	if len(txid) != TxIDSize {
		return false
	}
	age := now.Sub(txBorn(txid))
	return age < window && age > -window
}

// txStep is what to send to one provider once a decision is known.
type txStep int

const (
	stepNothing txStep = iota
	stepCommit         // a prepared provider: apply
	stepAbort          // a prepared provider: release
	stepFence          // an undecided transaction, provider not known to be prepared
	stepRestore        // a provider that will never prepare, of a committed transaction
)

// planTx says, per provider, what follows from the views and the decision. A
// provider that did not answer is fenced while undecided and, once committed, sent
// Commit (which may find it prepared after all, or unknown, then Restore).
func planTx(d Decision, views []TxView) []txStep {
	steps := make([]txStep, len(views))
	for i, v := range views {
		switch d {
		case DecidedCommit:
			switch v {
			case TxPrepared, TxNoAnswer:
				steps[i] = stepCommit
			case TxNone, TxAborted:
				steps[i] = stepRestore
			}
		case DecidedAbort:
			if v == TxPrepared {
				steps[i] = stepAbort
			}
		case Undecided:
			if v == TxNone || v == TxNoAnswer {
				steps[i] = stepFence
			}
		}
	}
	return steps
}

// planRecovery says, per provider, what a recovery sends for a transaction
// once the rule gave d from views. Only counted providers (the recorded
// participants) are fenced: a fence elsewhere would count for nothing. A
// committed transaction is restored where it will never prepare only when a
// verified copy of its entries is known (haveEntries); otherwise repair
// converges those providers later.
func planRecovery(d Decision, views []TxView, counted []bool, haveEntries bool) []txStep {
	steps := planTx(d, views)
	for i, s := range steps {
		switch {
		case s == stepFence && !counted[i]:
			steps[i] = stepNothing
		case s == stepRestore && !haveEntries:
			steps[i] = stepNothing
		}
	}
	return steps
}

// recoveryHold says why a recovery leaves a transaction as it is once it has
// fenced what it could, or "" when it carries out decision d (or has nothing to
// carry out: undecided, waiting for silent providers).
func recoveryHold(d Decision, inconsistent, recorded bool, counted int, haveEntries bool) string {
	switch {
	case inconsistent:
		return "its records carry different valid prepare seals or a malformed quorum (only a faulty coordinator makes these)"
	case d == Undecided && recorded && counted == 0:
		return "none of this client's providers is among its recorded participants (pin every server_id)"
	case d == DecidedCommit && !haveEntries:
		// Commit proofs are made over the entries: without a copy the seal
		// verifies, nothing can be committed (a provider could otherwise get
		// proofs for what it claims was written).
		return "no provider returned its entries under a valid prepare seal, so no commit proof can be made"
	}
	return ""
}

// txBorn is the time stamped in a txid (see TxIDSize); the zero time for a
// txid of another length.
func txBorn(txid []byte) time.Time {
	if len(txid) != TxIDSize {
		return time.Time{}
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(txid)))
}
