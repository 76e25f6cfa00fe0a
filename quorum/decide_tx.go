package quorum

// The atomic-commit decision rule, as pure functions over what each provider said.
// The fan-out code in atomic.go and recover.go only gathers those answers.
//
// A transaction is decided committed when it is prepared (or committed) on at least
// W providers, or committed on any; it is decided aborted when it is aborted (fenced)
// on at least N−W+1. A provider's record only moves forward and no provider is both
// prepared and fenced, so with W + (N−W+1) > N the two decisions can never both be
// reached, whoever counts: the live coordinator or any number of recoveries.

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

// decide applies the decision rule to the views of the n providers that take part
// in the transaction, with write quorum w.
func decide(n, w int, views []TxView) Decision {
	prepared, aborted := 0, 0
	for _, v := range views {
		switch v {
		case TxCommitted:
			return DecidedCommit
		case TxPrepared:
			prepared++
		case TxAborted:
			aborted++
		}
	}
	switch {
	case prepared >= w:
		return DecidedCommit
	case aborted >= n-w+1:
		return DecidedAbort
	}
	return Undecided
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
