package quorum

import (
	"bytes"
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

// records builds each provider's Status list holding txid in the given state
// ('P', 'C', 'A', '-' none, '?' no answer), all with quorum q.
func records(txid []byte, q provider.Quorum, states string) [][]provider.Transaction {
	m := map[rune]provider.TxState{'P': provider.TxPrepared, 'C': provider.TxCommitted, 'A': provider.TxAborted}
	lists := make([][]provider.Transaction, len(states))
	for i, r := range states {
		switch r {
		case '?':
			lists[i] = nil
		case '-':
			lists[i] = []provider.Transaction{}
		default:
			tq := q
			if r == 'A' && q.IsZero() {
				tq = provider.Quorum{}
			}
			lists[i] = []provider.Transaction{{TxID: txid, State: m[r], Quorum: tq}}
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
