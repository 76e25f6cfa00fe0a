package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
)

// reservedBy reports which txid holds key, learned from a Put that is bound to
// conflict (an impossible version) and so writes nothing.
func (e *env) reservedBy(key string) []byte {
	e.t.Helper()
	conflicts, err := e.s.Put(ctx(e.t), e.client, []store.KV{kv(key, 1<<40, "probe")})
	if err != nil || len(conflicts) != 1 {
		e.t.Fatalf("probe Put(%q): %v, %d conflicts", key, err, len(conflicts))
	}
	return conflicts[0].ReservedBy
}

// txStart is a state a txid is brought into before the operation under test.
type txStart string

const (
	fromNone      txStart = "none"
	fromPrepared  txStart = "prepared"
	fromCommitted txStart = "committed"
	fromFenced    txStart = "fenced"  // aborted without ever being prepared
	fromAborted   txStart = "aborted" // prepared, then aborted
)

func (e *env) bringTo(from txStart, txid []byte, kvs []store.KV) {
	e.t.Helper()
	c := ctx(e.t)
	switch from {
	case fromNone:
	case fromPrepared:
		e.prepareSealed(txid, kvs...)
	case fromCommitted:
		e.prepareSealed(txid, kvs...)
		if err := e.commit(c, txid); err != nil {
			e.t.Fatal(err)
		}
	case fromFenced:
		if state, err := e.s.Fence(c, e.client, txid); err != nil || state != store.TxAborted {
			e.t.Fatalf("Fence = %v, %v", state, err)
		}
	case fromAborted:
		e.prepareSealed(txid, kvs...)
		if err := e.s.Abort(c, e.client, txid); err != nil {
			e.t.Fatal(err)
		}
	}
}

// testTxStateTable checks every cell of the txid state table: each request on a
// txid in each state, its answer, and what the record (state, writes, quorum and
// seal), the data (with the txid and proof a commit stores) and the reservations
// are afterwards.
func testTxStateTable(t *testing.T, f Factory) {
	e := newEnv(t, f)
	type cell struct {
		op        string
		from      txStart
		wantState store.TxState // answer of Prepare and Fence
		wantErr   error
		after     store.TxState // record afterwards; TxUnknown for none
		visible   bool          // the transaction's write is readable afterwards
		reserved  bool          // its key is held afterwards
	}
	cells := []cell{
		{op: "Prepare", from: fromNone, wantState: store.TxPrepared, after: store.TxPrepared, reserved: true},
		{op: "Prepare", from: fromPrepared, wantState: store.TxPrepared, after: store.TxPrepared, reserved: true},
		{op: "PrepareOther", from: fromPrepared, wantErr: store.ErrTxMismatch, after: store.TxPrepared, reserved: true},
		{op: "Prepare", from: fromCommitted, wantState: store.TxCommitted, after: store.TxCommitted, visible: true},
		{op: "Prepare", from: fromFenced, wantState: store.TxAborted, after: store.TxAborted},
		{op: "Prepare", from: fromAborted, wantState: store.TxAborted, after: store.TxAborted},

		{op: "Commit", from: fromNone, wantErr: store.ErrTxUnknown, after: store.TxUnknown},
		{op: "Commit", from: fromPrepared, after: store.TxCommitted, visible: true},
		{op: "Commit", from: fromCommitted, after: store.TxCommitted, visible: true},
		{op: "Commit", from: fromFenced, wantErr: store.ErrCommitAborted, after: store.TxAborted},
		{op: "Commit", from: fromAborted, wantErr: store.ErrCommitAborted, after: store.TxAborted},

		{op: "Fence", from: fromNone, wantState: store.TxAborted, after: store.TxAborted},
		{op: "Fence", from: fromPrepared, wantState: store.TxPrepared, after: store.TxPrepared, reserved: true},
		{op: "Fence", from: fromCommitted, wantState: store.TxCommitted, after: store.TxCommitted, visible: true},
		{op: "Fence", from: fromFenced, wantState: store.TxAborted, after: store.TxAborted},
		{op: "Fence", from: fromAborted, wantState: store.TxAborted, after: store.TxAborted},

		{op: "Abort", from: fromNone, after: store.TxAborted},
		{op: "Abort", from: fromPrepared, after: store.TxAborted},
		{op: "Abort", from: fromCommitted, wantErr: store.ErrTxCommitted, after: store.TxCommitted, visible: true},
		{op: "Abort", from: fromFenced, after: store.TxAborted},
		{op: "Abort", from: fromAborted, after: store.TxAborted},
	}
	for i, c := range cells {
		name := fmt.Sprintf("%s/%s", c.op, c.from)
		key := fmt.Sprintf("cell%02d", i)
		txid := newTxID(t)
		kvs := []store.KV{kv(key, 0, "tx")}
		e.bringTo(c.from, txid, kvs)

		var (
			state store.TxState
			err   error
			cx    = ctx(t)
		)
		switch c.op {
		case "Prepare":
			var conflicts []store.Conflict
			state, conflicts, err = e.s.PrepareQuorum(cx, e.client, txid, suiteQuorum, sealOf(txid), kvs)
			if len(conflicts) > 0 {
				t.Errorf("%s: conflicts %s", name, formatConflicts(conflicts))
			}
		case "PrepareOther":
			state, _, err = e.s.PrepareQuorum(cx, e.client, txid, suiteQuorum, sealOf(txid), []store.KV{kv(key, 0, "other value")})
		case "Commit":
			err = e.commit(cx, txid)
		case "Fence":
			state, err = e.s.Fence(cx, e.client, txid)
		case "Abort":
			err = e.s.Abort(cx, e.client, txid)
		}
		switch {
		case c.wantErr == nil && err != nil:
			t.Errorf("%s: %v", name, err)
			continue
		case c.wantErr != nil && !errors.Is(err, c.wantErr):
			t.Errorf("%s: err = %v, want %v", name, err, c.wantErr)
			continue
		case c.op == "Prepare" || c.op == "Fence":
			if state != c.wantState {
				t.Errorf("%s: state %v, want %v", name, state, c.wantState)
			}
		}

		rec, ok := e.record(txid)
		switch {
		case c.after == store.TxUnknown && ok:
			t.Errorf("%s: record %v left, want none", name, rec.State)
		case c.after != store.TxUnknown && !ok:
			t.Errorf("%s: no record, want %v", name, c.after)
		case ok && rec.State != c.after:
			t.Errorf("%s: record %v, want %v", name, rec.State, c.after)
		case ok && rec.State != store.TxPrepared && len(rec.KVs) != 0:
			t.Errorf("%s: %v record keeps %d writes", name, rec.State, len(rec.KVs))
		case ok && rec.State == store.TxPrepared && !sameKVs(rec.KVs, kvs):
			t.Errorf("%s: record writes %s, want %s", name, formatKVs(rec.KVs), formatKVs(kvs))
		}
		// A record of a transaction that was ever prepared keeps the quorum and
		// seal sent with the prepare, whatever its state; a fence has neither.
		everPrepared := c.from == fromPrepared || c.from == fromCommitted || c.from == fromAborted ||
			(c.op == "Prepare" && c.from == fromNone)
		if ok && everPrepared && (!rec.Quorum.Equal(suiteQuorum) || !bytes.Equal(rec.Seal, sealOf(txid))) {
			t.Errorf("%s: %v record quorum %+v seal %x, want %+v and %x", name, rec.State, rec.Quorum, rec.Seal, suiteQuorum, sealOf(txid))
		}
		if ok && !everPrepared && (!rec.Quorum.IsZero() || len(rec.Seal) != 0) {
			t.Errorf("%s: %v record of a txid never prepared has quorum %+v seal %x", name, rec.State, rec.Quorum, rec.Seal)
		}
		got := e.get(key)
		if c.visible {
			if !sameKVs(got, kvs) {
				t.Errorf("%s: data %s, want %s", name, formatKVs(got), formatKVs(kvs))
			} else if !bytes.Equal(got[0].TxID, txid) || !bytes.Equal(got[0].Proof, proof(txid, key)) {
				t.Errorf("%s: committed data has txid %x proof %x, want %x and its proof", name, got[0].TxID, got[0].Proof, txid)
			}
		} else if len(got) != 0 {
			t.Errorf("%s: data %s visible, want none", name, formatKVs(got))
		}
		holder := e.reservedBy(key)
		if c.reserved && !bytes.Equal(holder, txid) {
			t.Errorf("%s: key held by %x, want %x", name, holder, txid)
		}
		if !c.reserved && holder != nil {
			t.Errorf("%s: key still held by %x", name, holder)
		}
	}
}

func testTxIDValidation(t *testing.T, f Factory) {
	e := newEnv(t, f)
	for _, n := range []int{0, 1, store.MinTxIDLen - 1, store.MaxTxIDLen + 1, 1000} {
		txid := bytes.Repeat([]byte{7}, n)
		c := ctx(t)
		if _, _, err := e.s.Prepare(c, e.client, txid, []store.KV{kv("a", 0, "x")}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Prepare with a %d-byte txid: %v, want ErrInvalid", n, err)
		}
		if err := e.commit(c, txid); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Commit with a %d-byte txid: %v, want ErrInvalid", n, err)
		}
		if _, err := e.s.Fence(c, e.client, txid); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Fence with a %d-byte txid: %v, want ErrInvalid", n, err)
		}
		if err := e.s.Abort(c, e.client, txid); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Abort with a %d-byte txid: %v, want ErrInvalid", n, err)
		}
	}
	if recs, err := e.s.Transactions(ctx(t), e.client); err != nil || len(recs) != 0 {
		t.Fatalf("Transactions = %d records, %v; want none", len(recs), err)
	}
	e.put(kv("a", 0, "x"))
	// The bounds themselves are valid.
	for _, n := range []int{store.MinTxIDLen, store.MaxTxIDLen} {
		if _, err := e.s.Fence(ctx(t), e.client, bytes.Repeat([]byte{byte(n)}, n)); err != nil {
			t.Errorf("Fence with a %d-byte txid: %v", n, err)
		}
	}
}

// testReservations checks that a prepared transaction's keys block Put, Prepare and
// Restore, with a conflict naming the txid, until Commit or Abort releases them.
func testReservations(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("a", 0, "A"), kv("free", 0, "F"))
	t1 := newTxID(t)
	e.prepare(t1, kv("a", 1, "A'"), kv("b", 0, "B"))

	c := ctx(t)
	conflicts, err := e.s.Put(c, e.client, []store.KV{kv("a", 1, "x"), kv("b", 0, "x"), kv("free", 1, "x")})
	if err != nil {
		t.Fatal(err)
	}
	wantConflicts(t, "Put", conflicts, []store.Conflict{reserved(stored("a", 0, "A"), t1), reserved(absent("b"), t1)})

	t2 := newTxID(t)
	state, conflicts, err := e.s.Prepare(c, e.client, t2, []store.KV{kv("b", 0, "x"), kv("free", 1, "x")})
	if err != nil || state != store.TxUnknown {
		t.Fatalf("Prepare over a reservation = %v, %v; want unknown with conflicts", state, err)
	}
	wantConflicts(t, "Prepare", conflicts, []store.Conflict{reserved(absent("b"), t1)})
	e.wantNoRecord(t2)

	applied, kept, err := e.s.Restore(c, e.client, []store.KV{kv("a", 9, "x"), kv("b", 9, "x")})
	if err != nil || len(applied) != 0 {
		t.Fatalf("Restore over reservations applied %q, %v", applied, err)
	}
	wantConflicts(t, "Restore", kept, []store.Conflict{reserved(stored("a", 0, "A"), t1), reserved(absent("b"), t1)})
	e.wantAll(kv("a", 0, "A"), kv("free", 0, "F"))

	// Unreserved keys are not held back.
	e.put(kv("free", 1, "F'"))

	if err := e.commit(c, t1); err != nil {
		t.Fatal(err)
	}
	e.wantAll(kv("a", 1, "A'"), kv("b", 0, "B"), kv("free", 1, "F'"))
	e.put(kv("a", 2, "A''"), kv("b", 1, "B'"))

	// Abort releases too, and leaves the data as it was.
	t3 := newTxID(t)
	e.prepare(t3, kv("a", 3, "never"))
	if err := e.s.Abort(c, e.client, t3); err != nil {
		t.Fatal(err)
	}
	e.put(kv("a", 3, "A'''"))
	e.wantAll(kv("a", 3, "A'''"), kv("b", 1, "B'"), kv("free", 1, "F'"))
	// A released txid cannot take its keys back.
	if state, _, err := e.s.Prepare(c, e.client, t3, []store.KV{kv("a", 4, "never")}); err != nil || state != store.TxAborted {
		t.Fatalf("Prepare of an aborted txid = %v, %v; want aborted", state, err)
	}
	e.put(kv("a", 4, "still free"))
}

func testPreparedInvisible(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("k", 0, "old"))
	txid := newTxID(t)
	e.prepare(txid, kv("k", 1, "new"), kv("n", 0, "new"))
	e.wantAll(kv("k", 0, "old"))
	for _, p := range []string{"k", "n", ""} {
		for _, got := range e.get(p) {
			if string(got.Value) == "new" {
				t.Fatalf("Get(%q) shows the prepared write %s", p, formatKVs([]store.KV{got}))
			}
		}
	}
	if err := e.commit(ctx(t), txid); err != nil {
		t.Fatal(err)
	}
	e.wantAll(kv("k", 1, "new"), kv("n", 0, "new"))
}

func testPrepareConflictLeavesNoRecord(t *testing.T, f Factory) {
	e := newEnv(t, f)
	e.put(kv("a", 0, "A"))
	txid := newTxID(t)
	state, conflicts, err := e.s.Prepare(ctx(t), e.client, txid, []store.KV{kv("a", 0, "x"), kv("b", 0, "x"), kv("c", 2, "x")})
	if err != nil || state != store.TxUnknown {
		t.Fatalf("conflicting Prepare = %v, %v; want unknown", state, err)
	}
	wantConflicts(t, "Prepare", conflicts, []store.Conflict{stored("a", 0, "A"), absent("c")})
	e.wantNoRecord(txid)
	if holder := e.reservedBy("b"); holder != nil {
		t.Fatalf("b held by %x after a failed Prepare", holder)
	}
	// The txid is still fresh: preparing it again, fixed, works.
	e.prepare(txid, kv("a", 1, "x"), kv("b", 0, "x"))
}

func testTransactions(t *testing.T, f Factory) {
	e := newEnv(t, f)
	type want struct {
		txid  []byte
		state store.TxState
		kvs   []store.KV
	}
	var wants []want
	for i := range 12 {
		txid := newTxID(t)
		if i%4 == 0 {
			txid = txid[:store.MinTxIDLen+i] // vary lengths: order is by bytes, not length
		}
		kvs := []store.KV{kv(fmt.Sprintf("k%02d", i), 0, fmt.Sprintf("v%d", i))}
		from := []txStart{fromPrepared, fromCommitted, fromFenced, fromAborted}[i%4]
		e.bringTo(from, txid, kvs)
		w := want{txid: txid, kvs: kvs}
		switch from {
		case fromPrepared:
			w.state = store.TxPrepared
		case fromCommitted:
			w.state, w.kvs = store.TxCommitted, nil
		default:
			w.state, w.kvs = store.TxAborted, nil
		}
		wants = append(wants, w)
	}
	slices.SortFunc(wants, func(a, b want) int { return bytes.Compare(a.txid, b.txid) })
	recs, err := e.s.Transactions(ctx(t), e.client)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(wants) {
		t.Fatalf("Transactions = %d records, want %d", len(recs), len(wants))
	}
	for i, rec := range recs {
		w := wants[i]
		if !bytes.Equal(rec.TxID, w.txid) || rec.State != w.state || !sameKVs(rec.KVs, w.kvs) {
			t.Errorf("record %d = %x %v %s, want %x %v %s", i, rec.TxID, rec.State, formatKVs(rec.KVs),
				w.txid, w.state, formatKVs(w.kvs))
		}
		if !rec.Updated.Equal(e.clock.Now()) {
			t.Errorf("record %d updated %v, want %v", i, rec.Updated, e.clock.Now())
		}
	}
}

func testPrune(t *testing.T, f Factory) {
	e := newEnv(t, f)
	old := map[txStart][]byte{}
	for _, from := range []txStart{fromPrepared, fromCommitted, fromFenced, fromAborted} {
		old[from] = newTxID(t)
		e.bringTo(from, old[from], []store.KV{kv("old/"+string(from), 0, "x")})
	}
	e.clock.Advance(retention / 2)
	recent := newTxID(t)
	e.bringTo(fromCommitted, recent, []store.KV{kv("recent", 0, "x")})
	e.clock.Advance(retention / 2)

	// Exactly at the retention nothing has expired yet.
	if n, err := e.s.Prune(ctx(t), e.client); err != nil || n != 0 {
		t.Fatalf("Prune at the retention = %d, %v; want 0", n, err)
	}
	e.clock.Advance(time.Millisecond)
	n, err := e.s.Prune(ctx(t), e.client)
	if err != nil || n != 3 {
		t.Fatalf("Prune = %d, %v; want 3", n, err)
	}
	e.wantRecord(old[fromPrepared], store.TxPrepared, kv("old/prepared", 0, "x"))
	e.wantRecord(recent, store.TxCommitted)
	e.wantNoRecord(old[fromCommitted])
	e.wantNoRecord(old[fromFenced])
	e.wantNoRecord(old[fromAborted])
	// Data is untouched; the old prepared transaction still holds its key.
	e.wantAll(kv("old/committed", 0, "x"), kv("recent", 0, "x"))
	if holder := e.reservedBy("old/prepared"); !bytes.Equal(holder, old[fromPrepared]) {
		t.Fatalf("old/prepared held by %x after Prune", holder)
	}
	if n, err := e.s.Prune(ctx(t), e.client); err != nil || n != 0 {
		t.Fatalf("second Prune = %d, %v; want 0", n, err)
	}
}

// testPrepareQuorum: the thresholds a coordinator records with a prepare are kept
// and returned, checked, and part of what makes a repeated prepare the same.
func testPrepareQuorum(t *testing.T, f Factory) {
	e := newEnv(t, f)
	ids := func(bs ...byte) [][]byte {
		var out [][]byte
		for _, b := range bs {
			out = append(out, bytes.Repeat([]byte{b}, 33))
		}
		return out
	}
	txid := newTxID(t)
	kvs := []store.KV{kv("q", 0, "v")}
	q := store.Quorum{Participants: ids(1, 2, 3), W: 2}
	if state, _, err := e.s.PrepareQuorum(ctx(t), e.client, txid, q, nil, kvs); err != nil || state != store.TxPrepared {
		t.Fatalf("PrepareQuorum = %v, %v", state, err)
	}
	if rec, ok := e.record(txid); !ok || !rec.Quorum.Equal(q) {
		t.Fatalf("record quorum = %+v (present %v), want %+v", rec.Quorum, ok, q)
	}
	if state, _, err := e.s.PrepareQuorum(ctx(t), e.client, txid, q, nil, kvs); err != nil || state != store.TxPrepared {
		t.Errorf("same prepare again = %v, %v; want prepared", state, err)
	}
	for _, other := range []store.Quorum{{Participants: ids(1, 2, 3), W: 1}, {Participants: ids(1, 2, 4), W: 2}, {}} {
		if _, _, err := e.s.PrepareQuorum(ctx(t), e.client, txid, other, nil, kvs); !errors.Is(err, store.ErrTxMismatch) {
			t.Errorf("prepare again with quorum %+v: err = %v, want ErrTxMismatch", other, err)
		}
	}
	// The quorum outlives the decision, for audit to judge the records by.
	if err := e.commit(ctx(t), txid); err != nil {
		t.Fatal(err)
	}
	if rec, ok := e.record(txid); !ok || rec.State != store.TxCommitted || !rec.Quorum.Equal(q) {
		t.Errorf("committed record = %v %+v, want the quorum kept", rec.State, rec.Quorum)
	}
	aborted := newTxID(t)
	if _, _, err := e.s.PrepareQuorum(ctx(t), e.client, aborted, q, nil, []store.KV{kv("q2", 0, "v")}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Abort(ctx(t), e.client, aborted); err != nil {
		t.Fatal(err)
	}
	if rec, ok := e.record(aborted); !ok || rec.State != store.TxAborted || !rec.Quorum.Equal(q) {
		t.Errorf("aborted record = %v %+v, want the quorum kept", rec.State, rec.Quorum)
	}

	tooMany := make([][]byte, store.MaxParticipants+1)
	for i := range tooMany {
		tooMany[i] = []byte{byte(i >> 8), byte(i)}
	}
	for name, bad := range map[string]store.Quorum{
		"quorum above participants":   {Participants: ids(1, 2), W: 3},
		"participants without quorum": {Participants: ids(1, 2, 3)},
		"quorum without participants": {W: 1},
		"unsorted participants":       {Participants: ids(2, 1), W: 1},
		"duplicate participants":      {Participants: ids(1, 1), W: 1},
		"empty participant":           {Participants: [][]byte{{}, {1}}, W: 1},
		"too many participants":       {Participants: tooMany, W: 1},
	} {
		if _, _, err := e.s.PrepareQuorum(ctx(t), e.client, newTxID(t), bad, nil, []store.KV{kv("bad", 0, "v")}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if got := e.get("bad"); len(got) != 0 {
		t.Errorf("refused prepares wrote %s", formatKVs(got))
	}
}

// testPruneMany expires more records than one prune transaction deletes: every
// one must still go, on backends with a per-transaction operation limit too.
func testPruneMany(t *testing.T, f Factory) {
	e := newEnv(t, f)
	const n = 250
	for range n {
		if _, err := e.s.Fence(ctx(t), e.client, newTxID(t)); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(retention + time.Millisecond)
	if got, err := e.s.Prune(ctx(t), e.client); err != nil || got != n {
		t.Fatalf("Prune = %d, %v; want %d", got, err, n)
	}
	if recs, err := e.s.Transactions(ctx(t), e.client); err != nil || len(recs) != 0 {
		t.Fatalf("after Prune %d records remain (%v)", len(recs), err)
	}
}

// testConcurrentPrepare races transactions for one key: exactly one prepares, the
// rest see it holding the key and leave no record.
func testConcurrentPrepare(t *testing.T, f Factory) {
	e := newEnv(t, f)
	const n = 16
	var (
		wg        sync.WaitGroup
		start     = make(chan struct{})
		txids     = make([][]byte, n)
		states    = make([]store.TxState, n)
		conflicts = make([][]store.Conflict, n)
		errs      = make([]error, n)
	)
	for i := range n {
		txids[i] = newTxID(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			states[i], conflicts[i], errs[i] = e.s.Prepare(ctx(t), e.client, txids[i], []store.KV{kv("k", 0, fmt.Sprint(i))})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range n {
		switch {
		case errs[i] != nil:
			t.Fatalf("Prepare %d: %v", i, errs[i])
		case states[i] == store.TxPrepared && winner >= 0:
			t.Fatalf("Prepare %d and %d both prepared", winner, i)
		case states[i] == store.TxPrepared:
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no Prepare succeeded")
	}
	for i := range n {
		if i != winner {
			wantConflicts(t, fmt.Sprintf("Prepare %d", i), conflicts[i], []store.Conflict{reserved(absent("k"), txids[winner])})
			e.wantNoRecord(txids[i])
		}
	}
	recs, err := e.s.Transactions(ctx(t), e.client)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Transactions = %d records, %v; want 1", len(recs), err)
	}
}
