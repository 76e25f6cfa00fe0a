package quorum

import (
	"bytes"
	"slices"
	"testing"

	"github.com/lssquorum/lss/provider"
)

// The recovery and audit decisions from providers' records, without a network.

var testIDs = map[string][]byte{
	"p0": bytes.Repeat([]byte{2}, 33),
	"p1": bytes.Repeat([]byte{3}, 33),
	"p2": bytes.Repeat([]byte{4}, 33),
	"p3": bytes.Repeat([]byte{5}, 33),
}

func recorded(w int, names ...string) provider.Quorum {
	q := provider.Quorum{W: w}
	for _, n := range names {
		q.Participants = append(q.Participants, testIDs[n])
	}
	return q
}

// record is one provider's record of txid with quorum q in the given state:
// 'P' prepared with the coordinator's valid seal "S" over the entry k@0, 'p'
// prepared with a seal that does not verify (made up, or replayed from another
// record) over a made-up entry, 'Q' prepared with another valid seal, 'C'
// committed with the seal "S", 'c' committed with another seal, 'A' aborted.
func record(txid []byte, q provider.Quorum, state rune) provider.Transaction {
	valid := []provider.Entry{{Key: "k", Version: 0, Value: []byte("v"), Stored: []byte("v")}}
	made := []provider.Entry{{Key: "made up", Version: 7, Value: []byte("w"), Stored: []byte("w")}}
	tx := provider.Transaction{TxID: txid, Quorum: q}
	switch state {
	case 'P':
		tx.State, tx.Seal, tx.SealValid, tx.Entries = provider.TxPrepared, []byte("S"), true, valid
	case 'p':
		tx.State, tx.Seal, tx.Entries = provider.TxPrepared, []byte("forged"), made
	case 'Q':
		tx.State, tx.Seal, tx.SealValid, tx.Entries = provider.TxPrepared, []byte("other"), true, made
	case 'C':
		tx.State, tx.Seal = provider.TxCommitted, []byte("S")
	case 'c':
		tx.State, tx.Seal = provider.TxCommitted, []byte("forged")
	case 'A':
		tx.State, tx.Seal = provider.TxAborted, nil
	}
	return tx
}

// records builds each provider's Status list holding txid in the given state
// (see record; '-' none, '?' no answer), all with quorum q.
func records(txid []byte, q provider.Quorum, states string) [][]provider.Transaction {
	lists := make([][]provider.Transaction, len(states))
	for i, r := range states {
		switch r {
		case '?':
			lists[i] = nil
		case '-':
			lists[i] = []provider.Transaction{}
		default:
			lists[i] = []provider.Transaction{record(txid, q, r)}
		}
	}
	return lists
}

func TestGatherTxsDecidesByTheRecordedQuorum(t *testing.T) {
	txid := bytes.Repeat([]byte{9}, 32)
	parts := []string{"p0", "p1", "p2", "p3"}
	cases := []struct {
		name   string
		q      provider.Quorum
		states string
		localW int
		want   Decision
		incons bool
	}{
		// p3 is not a participant: its fence does not count towards an abort.
		{"extra provider's fence ignored", recorded(2, "p0", "p1", "p2"), "P?AA", 3, Undecided, false},
		{"recorded W, not the local one", recorded(2, "p0", "p1", "p2"), "PP--", 3, DecidedCommit, false},
		{"abort by the recorded participants", recorded(2, "p0", "p1", "p2"), "PAA-", 1, DecidedAbort, false},
		{"nothing recorded: local quorum", provider.Quorum{}, "PP--", 2, DecidedCommit, false},
		{"invalid record is never decided", provider.Quorum{W: 2}, "PAAA", 2, Undecided, true},
		{"invalid record, committed somewhere", provider.Quorum{W: 2}, "CP--", 2, Undecided, true},
		{"unsorted participants", recorded(2, "p1", "p0", "p2"), "PAA-", 2, Undecided, true},
		// Observation 2: a record whose seal does not verify counts for nothing,
		// whatever quorum it claims.
		{"unverified prepared record", recorded(1, "p0"), "p---", 2, Undecided, false},
		{"unverified record beside a valid one", recorded(2, "p0", "p1", "p2"), "Pp--", 2, Undecided, false},
		{"unverified records fenced by the local quorum", recorded(1, "p0"), "pAAA", 2, DecidedAbort, false},
		// A committed record counts only with the verified seal.
		{"committed with the verified seal", recorded(2, "p0", "p1", "p2"), "PC--", 3, DecidedCommit, false},
		{"committed with another seal", recorded(2, "p0", "p1", "p2"), "Pc--", 3, Undecided, false},
		{"committed alone", recorded(2, "p0", "p1", "p2"), "CC--", 3, Undecided, false},
		{"two valid seals", recorded(2, "p0", "p1", "p2"), "PQP-", 2, Undecided, true},
	}
	for _, c := range cases {
		txs := gatherTxs(parts, testIDs, records(txid, c.q, c.states), c.localW)
		if len(txs) != 1 {
			t.Fatalf("%s: %d transactions", c.name, len(txs))
		}
		if txs[0].Decision != c.want || txs[0].Inconsistent != c.incons {
			t.Errorf("%s: decision %v (inconsistent %v), want %v (%v)", c.name, txs[0].Decision, txs[0].Inconsistent, c.want, c.incons)
		}
	}
}

// TestGatherTxsTakesQuorumAndEntriesOnlyFromValidSeals: the quorum a
// transaction is decided by, and the entries a recovery would commit or
// restore, come only from a record whose prepare seal verifies; a provider's
// own record (W=1, made-up entries) is named, never used.
func TestGatherTxsTakesQuorumAndEntriesOnlyFromValidSeals(t *testing.T) {
	txid := bytes.Repeat([]byte{9}, 32)
	parts := []string{"p0", "p1", "p2"}
	liar := [][]provider.Transaction{{record(txid, recorded(1, "p2"), 'p')}}
	lists := append(records(txid, recorded(2, "p0", "p1", "p2"), "P-"), liar...)
	st := gatherTxs(parts, testIDs, lists, 3)[0]
	if !st.Recorded || st.N != 3 || st.W != 2 {
		t.Errorf("decided by N=%d W=%d (recorded %v), want the sealed 2 of 3", st.N, st.W, st.Recorded)
	}
	if len(st.Entries) != 1 || st.Entries[0].Key != "k" || !slices.Equal(st.Keys, []string{"k"}) {
		t.Errorf("entries %v (keys %v), want the sealed k@0", st.Entries, st.Keys)
	}
	if !slices.Equal(st.Unverified, []string{"p2"}) || st.Decision != Undecided {
		t.Errorf("unverified %v, decision %v; want p2 named and nothing decided", st.Unverified, st.Decision)
	}

	// Only the liar's record: no quorum, no entries to restore, its keys only
	// reported.
	alone := append(records(txid, provider.Quorum{}, "--"), liar...)
	st = gatherTxs(parts, testIDs, alone, 2)[0]
	if st.Recorded || st.N != 3 || st.W != 2 || st.Entries != nil || !slices.Equal(st.Keys, []string{"made up"}) {
		t.Errorf("liar alone: recorded %v N=%d W=%d entries %v keys %v; want the local 2 of 3, no entries", st.Recorded, st.N, st.W, st.Entries, st.Keys)
	}
	if st.Decision != Undecided {
		t.Errorf("liar alone: decision %v", st.Decision)
	}
}

func TestSplitTxs(t *testing.T) {
	txid := bytes.Repeat([]byte{9}, 32)
	parts := []string{"p0", "p1", "p2"}
	q := recorded(2, "p0", "p1", "p2")
	cases := []struct {
		name   string
		states string
		localW int
		split  bool
	}{
		{"fenced where never prepared is normal", "CCA", 3, false},
		{"committed and decided aborted", "CAA", 2, true},
		{"all committed", "CCC", 2, false},
	}
	for _, c := range cases {
		got := splitTxs(parts, testIDs, records(txid, q, c.states), c.localW)
		if (len(got) == 1) != c.split {
			t.Errorf("%s: split = %v, want %v", c.name, len(got) == 1, c.split)
		}
	}
}
