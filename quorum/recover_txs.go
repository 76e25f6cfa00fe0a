package quorum

import (
	"bytes"
	"slices"

	"github.com/lssquorum/lss/provider"
)

// TxStatus is one transaction as the providers hold it.
type TxStatus struct {
	TxID []byte `json:"txid"`
	// Views is what each participating provider holds (TxNoAnswer for one that did
	// not answer Status, TxNone for one without a record).
	Views map[string]TxView `json:"views"`
	// Decision is what the decision rule concludes from the authenticated views
	// (see decideVotes): a prepared or committed record whose prepare seal does
	// not verify counts for nothing.
	Decision Decision `json:"decision"`
	// Entries are the transaction's writes, from a record whose prepare seal
	// verifies over them (the client made that prepare); nil if no record does.
	// Only these are ever committed or restored.
	Entries []provider.Entry `json:"-"`
	// Keys are the keys the transaction writes: those of Entries, or, when no
	// record verifies, those some provider's record claims (for reports only).
	Keys []string `json:"keys"`
	// N and W are the thresholds the decision counts with (committed once
	// prepared on W, aborted once fenced on N − W + 1), and Counted the providers
	// whose views count: the participants the coordinator recorded with its
	// prepares (by pinned server_id), as a verified prepare seal authenticates
	// them, or, when no seal verifies, this client's providers that speak the
	// extension and its W.
	N       int      `json:"n"`
	W       int      `json:"w"`
	Counted []string `json:"counted"`
	// Recorded says whether a verified prepare seal authenticates the
	// participants and W the coordinator recorded.
	Recorded bool `json:"recorded"`
	// Inconsistent is set when records with valid seals disagree (two seals
	// for one txid, or a sealed quorum that is malformed): only a faulty
	// coordinator can cause it, and the transaction is then never decided.
	Inconsistent bool `json:"inconsistent,omitempty"`
	// Unverified names the providers whose prepared or committed record counts
	// for nothing: no prepare seal, one that does not verify over the record's
	// quorum and entries (made up, or replayed from another record), or a
	// committed record whose seal is unlike the verified one.
	Unverified []string `json:"unverified,omitempty"`
	// Proven names the providers found holding one of the transaction's
	// values with a valid commit proof of it (see probeProofs). The client
	// makes a proof only once the commit is decided, so one is enough: the
	// transaction is decided committed, whatever the records say (records
	// can be pruned, rolled back or withheld; a proof cannot be forged).
	Proven []string `json:"proven,omitempty"`
	// AbortedHere says this client decided the transaction aborted (as its
	// coordinator or in an earlier recovery) and remembers it (aborted.go): it
	// is decided aborted whatever prepared views the providers show, unless a
	// commit proof is found.
	AbortedHere bool `json:"aborted_here,omitempty"`

	recorded provider.Quorum
	votes    map[string]txVote
	// claimed is the quorum every record that carries one agrees on, verified
	// or not (claimedOK); only audit uses it, to report splits of decided
	// transactions, whose records keep no entries to verify a seal against.
	claimed   provider.Quorum
	claimedOK bool
}

// Pending reports whether some provider still holds the transaction prepared.
func (s TxStatus) Pending() bool {
	for _, v := range s.Views {
		if v == TxPrepared {
			return true
		}
	}
	return false
}

// decideFrom applies the decision rule to views (by provider name), counting only
// the providers that take part. A view that differs from the provider's record
// (learnt from a reply since: a fence that found it prepared) comes without a
// seal: it counts only as a fence, until its record is read again.
func (s *TxStatus) decideFrom(views map[string]TxView) Decision {
	if s.Inconsistent {
		// No thresholds can be trusted: never decided.
		return Undecided
	}
	votes := make([]txVote, 0, len(s.Counted))
	for _, name := range s.Counted {
		v := s.votes[name]
		if views[name] != v.View {
			v = txVote{View: views[name]}
		}
		votes = append(votes, v)
	}
	if len(s.Proven) > 0 {
		// The proof's holder need not be a counted participant: a proof
		// decides by itself.
		votes = append(votes, txVote{ProofOK: true})
	} else if s.AbortedHere {
		return DecidedAbort
	}
	return decideVotes(s.N, s.W, votes)
}

// quorumOf fills N, W and Counted: from the recorded quorum if a verified seal
// authenticates one, else from this client's providers. ids maps provider names
// to pinned server_ids.
func (s *TxStatus) quorumOf(parts []string, ids map[string][]byte, localW int) {
	if !s.Recorded {
		s.N, s.W, s.Counted = len(parts), localW, parts
		return
	}
	s.N, s.W, s.Counted = len(s.recorded.Participants), s.recorded.W, countedOf(s.recorded, parts, ids)
}

// countedOf names the providers among parts whose pinned server_id q records.
func countedOf(q provider.Quorum, parts []string, ids map[string][]byte) []string {
	var out []string
	for _, name := range parts {
		id := ids[name]
		if id != nil && slices.ContainsFunc(q.Participants, func(p []byte) bool { return bytes.Equal(p, id) }) {
			out = append(out, name)
		}
	}
	return out
}

// gatherTxs builds every transaction the providers hold records of, in txid
// order, with what each provider holds, the quorum it is decided by, and the
// decision. lists[i] is parts[i]'s Status (nil if it did not answer).
func gatherTxs(parts []string, ids map[string][]byte, lists [][]provider.Transaction, localW int) []TxStatus {
	recs := map[string][]*provider.Transaction{}
	var txids []string
	for i, list := range lists {
		for j := range list {
			id := string(list[j].TxID)
			if recs[id] == nil {
				recs[id] = make([]*provider.Transaction, len(parts))
				txids = append(txids, id)
			}
			recs[id][i] = &list[j]
		}
	}
	slices.Sort(txids)
	answered := make([]bool, len(parts))
	for i, list := range lists {
		answered[i] = list != nil
	}
	out := make([]TxStatus, 0, len(txids))
	for _, id := range txids {
		out = append(out, judgeTx(parts, ids, answered, recs[id], localW))
	}
	return out
}

// judgeTx is one transaction from its records (recs[i] is parts[i]'s, nil if
// none): the views, which of them the seal rule lets count, the quorum and
// entries a verified seal authenticates, and the decision.
func judgeTx(parts []string, ids map[string][]byte, answered []bool, recs []*provider.Transaction, localW int) TxStatus {
	st := TxStatus{Views: map[string]TxView{}, votes: map[string]txVote{}}
	in := make([]txVote, len(parts))
	for i, r := range recs {
		switch {
		case r != nil:
			st.TxID = r.TxID
			in[i] = txVote{View: viewOfState(r.State), Seal: r.Seal,
				SealOK: r.State == provider.TxPrepared && r.SealValid && entriesVerified(r.Entries)}
		case answered[i]:
			in[i].View = TxNone
		default:
			in[i].View = TxNoAnswer
		}
		st.Views[parts[i]] = in[i].View
	}
	votes, trusted, conflict := authenticate(in)
	for i, v := range votes {
		st.votes[parts[i]] = v
		if (v.View == TxPrepared || v.View == TxCommitted) && !v.SealOK {
			st.Unverified = append(st.Unverified, parts[i])
		}
	}
	st.Inconsistent = conflict
	if trusted != nil {
		i := slices.IndexFunc(votes, func(v txVote) bool { return v.View == TxPrepared && v.SealOK })
		switch q := recs[i].Quorum; {
		case q.IsZero():
			// Sealed without a quorum: decided by this client's.
			st.Entries = recs[i].Entries
		case !validQuorum(q):
			st.Inconsistent = true
		default:
			st.recorded, st.Recorded = q, true
			st.Entries = recs[i].Entries
		}
	}
	st.claimed, st.claimedOK = claimedQuorum(recs)
	st.quorumOf(parts, ids, localW)
	st.Decision = st.decideFrom(st.Views)
	keysFrom := st.Entries
	for _, r := range recs {
		if keysFrom == nil && r != nil && len(r.Entries) > 0 {
			keysFrom = r.Entries
		}
	}
	for _, e := range keysFrom {
		st.Keys = append(st.Keys, e.Key)
	}
	return st
}

// claimedQuorum is the quorum every record that carries one agrees on, if it is
// well formed.
func claimedQuorum(recs []*provider.Transaction) (provider.Quorum, bool) {
	var q provider.Quorum
	found := false
	for _, r := range recs {
		if r == nil || r.Quorum.IsZero() {
			continue
		}
		if found && !sameQuorum(q, r.Quorum) {
			return provider.Quorum{}, false
		}
		q, found = r.Quorum, true
	}
	return q, found && validQuorum(q)
}

// validQuorum checks a recorded quorum: 1 <= W <= participants, the
// participants distinct and ascending. Anything else is never decided on.
func validQuorum(q provider.Quorum) bool {
	if q.W < 1 || q.W > len(q.Participants) {
		return false
	}
	for i := 1; i < len(q.Participants); i++ {
		if bytes.Compare(q.Participants[i-1], q.Participants[i]) >= 0 {
			return false
		}
	}
	return true
}

func sameQuorum(a, b provider.Quorum) bool {
	return a.W == b.W && slices.EqualFunc(a.Participants, b.Participants, bytes.Equal)
}

// entriesVerified says every entry's value MAC verified (Value is nil if not).
func entriesVerified(es []provider.Entry) bool {
	for _, e := range es {
		if e.Value == nil {
			return false
		}
	}
	return true
}
