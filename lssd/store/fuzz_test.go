package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// model is the reference the txid state machine fuzz target checks the Store
// against: the state table of docs/design.md and the version rule, written as
// plainly as possible.
type model struct {
	data map[string]store.KV
	res  map[string]string // key -> txid holding it
	recs map[string]*modelRec
}

type modelRec struct {
	state store.TxState
	kvs   []store.KV
}

func newModel() *model {
	return &model{data: map[string]store.KV{}, res: map[string]string{}, recs: map[string]*modelRec{}}
}

// conflicts applies the version rule and the reservations to kvs.
func (m *model) conflicts(kvs []store.KV) []string {
	var out []string
	for _, kv := range kvs {
		want := int64(0)
		if s, ok := m.data[kv.Key]; ok {
			want = s.Version + 1
		}
		if _, reserved := m.res[kv.Key]; reserved || kv.Version != want {
			out = append(out, kv.Key)
		}
	}
	return out
}

func (m *model) put(kvs []store.KV) []string {
	cs := m.conflicts(kvs)
	if len(cs) == 0 {
		for _, kv := range kvs {
			m.data[kv.Key] = kv
		}
	}
	return cs
}

func (m *model) prepare(txid string, kvs []store.KV) (store.TxState, []string, error) {
	if r, ok := m.recs[txid]; ok {
		if r.state == store.TxPrepared && !sameWrites(r.kvs, kvs) {
			return store.TxUnknown, nil, store.ErrTxMismatch
		}
		return r.state, nil, nil
	}
	if cs := m.conflicts(kvs); len(cs) > 0 {
		return store.TxUnknown, cs, nil
	}
	for _, kv := range kvs {
		m.res[kv.Key] = txid
	}
	m.recs[txid] = &modelRec{state: store.TxPrepared, kvs: kvs}
	return store.TxPrepared, nil, nil
}

func (m *model) commit(txid string, proofs [][]byte) error {
	r, ok := m.recs[txid]
	switch {
	case !ok:
		return store.ErrTxUnknown
	case r.state == store.TxCommitted:
		return nil
	case r.state == store.TxAborted:
		return store.ErrCommitAborted
	case len(proofs) != len(r.kvs):
		return store.ErrInvalid
	}
	for i, kv := range r.kvs {
		kv.TxID, kv.Proof = []byte(txid), proofs[i]
		m.data[kv.Key] = kv
		delete(m.res, kv.Key)
	}
	m.recs[txid] = &modelRec{state: store.TxCommitted}
	return nil
}

func (m *model) fence(txid string) store.TxState {
	if r, ok := m.recs[txid]; ok {
		return r.state
	}
	m.recs[txid] = &modelRec{state: store.TxAborted}
	return store.TxAborted
}

func (m *model) abort(txid string) error {
	r, ok := m.recs[txid]
	if ok && r.state == store.TxAborted {
		return nil
	}
	if ok && r.state == store.TxCommitted {
		return store.ErrTxCommitted
	}
	if ok {
		for _, kv := range r.kvs {
			delete(m.res, kv.Key)
		}
	}
	m.recs[txid] = &modelRec{state: store.TxAborted}
	return nil
}

// restore follows the Restore rules: plain kvs key by key, each transaction's
// group all or nothing, a group prepared here settling its transaction.
func (m *model) restore(kvs []store.KV) ([]string, error) {
	needs := func(kv store.KV) bool {
		s, ok := m.data[kv.Key]
		return !ok || s.Version < kv.Version
	}
	write := map[string]bool{}
	groups := map[string][]store.KV{}
	var order []string
	for _, kv := range kvs {
		if len(kv.TxID) == 0 {
			_, reserved := m.res[kv.Key]
			write[kv.Key] = needs(kv) && !reserved
			continue
		}
		if _, ok := groups[string(kv.TxID)]; !ok {
			order = append(order, string(kv.TxID))
		}
		groups[string(kv.TxID)] = append(groups[string(kv.TxID)], kv)
	}
	var settle []string
	for _, txid := range order {
		g := groups[txid]
		if r, ok := m.recs[txid]; ok && r.state == store.TxPrepared {
			if !sameWrites(r.kvs, g) {
				return nil, store.ErrInvalid
			}
			for _, kv := range g {
				write[kv.Key] = true
			}
			settle = append(settle, txid)
			continue
		}
		blocked := false
		for _, kv := range g {
			if holder, reserved := m.res[kv.Key]; needs(kv) && reserved && holder != txid {
				blocked = true
			}
		}
		for _, kv := range g {
			write[kv.Key] = !blocked && needs(kv)
		}
	}
	var applied []string
	for _, kv := range kvs {
		if write[kv.Key] {
			m.data[kv.Key] = kv
			applied = append(applied, kv.Key)
		}
	}
	for _, txid := range settle {
		for _, kv := range m.recs[txid].kvs {
			delete(m.res, kv.Key)
		}
		m.recs[txid] = &modelRec{state: store.TxCommitted}
	}
	return applied, nil
}

func sameWrites(a, b []store.KV) bool {
	return slices.EqualFunc(a, b, func(x, y store.KV) bool {
		return x.Key == y.Key && x.Version == y.Version && bytes.Equal(x.Value, y.Value)
	})
}

// fuzzOps reads operations from fuzz bytes.
type fuzzOps struct{ data []byte }

func (f *fuzzOps) byte() byte {
	if len(f.data) == 0 {
		return 0
	}
	b := f.data[0]
	f.data = f.data[1:]
	return b
}

var fuzzTxIDs = [][]byte{bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 32)}

// kvs picks a sorted set of the keys k0..k3 and, for each, a version near what m
// expects (the expected one most often) and a value.
func (f *fuzzOps) kvs(m *model) []store.KV {
	mask := f.byte()
	var kvs []store.KV
	for k := range 4 {
		if mask&(1<<k) == 0 {
			continue
		}
		key := fmt.Sprintf("k%d", k)
		want := int64(0)
		if s, ok := m.data[key]; ok {
			want = s.Version + 1
		}
		b := f.byte()
		v := want
		switch b % 8 {
		case 5:
			v = want + 1 + int64(b>>3)%3
		case 6:
			v = max(0, want-1)
		case 7:
			v = 0
		}
		kvs = append(kvs, store.KV{Key: key, Version: v, Value: []byte{b}})
	}
	return kvs
}

func (f *fuzzOps) txid() []byte { return fuzzTxIDs[int(f.byte())%len(fuzzTxIDs)] }

func proofsFor(n int, tag byte) [][]byte {
	ps := make([][]byte, n)
	for i := range ps {
		ps[i] = []byte{tag, byte(i), 0xaa}
	}
	return ps
}

// FuzzTxStateMachine runs random sequences of Put, Prepare, Commit, Fence, Abort
// and Restore on the memory backend and, after every step, compares the outcome
// and the whole state (data with txids and proofs, reservations, records) with
// the model, and checks that no stored version ever went down.
func FuzzTxStateMachine(f *testing.F) {
	f.Add([]byte{1, 0, 3, 0, 0, 2, 0, 3})                         // prepare, commit
	f.Add([]byte{1, 1, 1, 0, 3, 1, 1, 0, 1, 1, 0, 1, 4, 1})       // prepare, put into a reservation, abort
	f.Add([]byte{3, 2, 1, 2, 3, 0, 0, 2, 2})                      // fence first, late prepare refused
	f.Add([]byte{1, 0, 5, 0, 0, 5, 0, 0, 0, 2, 0, 1, 5, 1, 0, 0}) // restore settles a prepared txid
	f.Add([]byte{0, 15, 0, 0, 0, 0, 5, 6, 1, 1, 5, 2, 0, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		client := []byte("fuzz client")
		b := newMemory(t)
		s := store.New(b, store.Options{})
		defer s.Close()
		m := newModel()
		ops := &fuzzOps{data: data}
		last := map[string]int64{}
		for step := 0; step < 40 && len(ops.data) > 0; step++ {
			op := ops.byte() % 6
			var what string
			switch op {
			case 0:
				kvs := ops.kvs(m)
				what = fmt.Sprintf("put %v", kvs)
				cs, err := s.Put(ctx, client, kvs)
				want := m.put(kvs)
				if err != nil || !slices.Equal(conflictKeys(cs), want) {
					t.Fatalf("step %d %s: conflicts %v, %v; want %v", step, what, conflictKeys(cs), err, want)
				}
			case 1:
				txid, kvs := ops.txid(), ops.kvs(m)
				what = fmt.Sprintf("prepare %x %v", txid[:1], kvs)
				st, cs, err := s.Prepare(ctx, client, txid, kvs)
				wst, wcs, werr := m.prepare(string(txid), kvs)
				if st != wst || !slices.Equal(conflictKeys(cs), wcs) || !sameErr(err, werr) {
					t.Fatalf("step %d %s: %v %v %v; want %v %v %v", step, what, st, conflictKeys(cs), err, wst, wcs, werr)
				}
			case 2:
				txid := ops.txid()
				n := 0
				if r, ok := m.recs[string(txid)]; ok {
					n = len(r.kvs)
				}
				if ops.byte()%5 == 0 {
					n++ // a wrong number of proofs
				}
				proofs := proofsFor(n, byte(step))
				what = fmt.Sprintf("commit %x with %d proofs", txid[:1], n)
				err := s.Commit(ctx, client, txid, proofs)
				if werr := m.commit(string(txid), proofs); !sameErr(err, werr) {
					t.Fatalf("step %d %s: %v; want %v", step, what, err, werr)
				}
			case 3:
				txid := ops.txid()
				what = fmt.Sprintf("fence %x", txid[:1])
				st, err := s.Fence(ctx, client, txid)
				if want := m.fence(string(txid)); err != nil || st != want {
					t.Fatalf("step %d %s: %v %v; want %v", step, what, st, err, want)
				}
			case 4:
				txid := ops.txid()
				what = fmt.Sprintf("abort %x", txid[:1])
				err := s.Abort(ctx, client, txid)
				if werr := m.abort(string(txid)); !sameErr(err, werr) {
					t.Fatalf("step %d %s: %v; want %v", step, what, err, werr)
				}
			case 5:
				var kvs []store.KV
				if g := ops.byte(); g%2 == 1 {
					// One transaction's writes: its prepared ones, or made-up ones.
					txid := fuzzTxIDs[int(g>>1)%len(fuzzTxIDs)]
					if r, ok := m.recs[string(txid)]; ok && r.state == store.TxPrepared && g&8 == 0 {
						kvs = slices.Clone(r.kvs)
					} else {
						kvs = ops.kvs(m)
					}
					for i := range kvs {
						kvs[i].TxID, kvs[i].Proof = txid, []byte{byte(i), 0xbb}
					}
				} else {
					kvs = ops.kvs(m)
				}
				what = fmt.Sprintf("restore %v", kvs)
				applied, _, err := s.Restore(ctx, client, kvs)
				wapplied, werr := m.restore(kvs)
				if !sameErr(err, werr) || !slices.Equal(applied, wapplied) {
					t.Fatalf("step %d %s: applied %v, %v; want %v, %v", step, what, applied, err, wapplied, werr)
				}
			}
			checkState(t, ctx, s, b, client, m, last, step, what)
		}
	})
}

func conflictKeys(cs []store.Conflict) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Key)
	}
	return out
}

func sameErr(got, want error) bool {
	if want == nil {
		return got == nil
	}
	return errors.Is(got, want)
}

// checkState compares everything the store holds with the model, and the stored
// versions with those of the previous step.
func checkState(t *testing.T, ctx context.Context, s *store.Store, b store.Backend, client []byte, m *model, last map[string]int64, step int, what string) {
	t.Helper()
	got, err := s.Get(ctx, client, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(m.data) {
		t.Fatalf("after step %d %s: store holds %d keys, model %d", step, what, len(got), len(m.data))
	}
	for _, kv := range got {
		w := m.data[kv.Key]
		if kv.Version != w.Version || !bytes.Equal(kv.Value, w.Value) || !bytes.Equal(kv.TxID, w.TxID) || !bytes.Equal(kv.Proof, w.Proof) {
			t.Fatalf("after step %d %s: %s is %+v, want %+v", step, what, kv.Key, kv, w)
		}
		if kv.Version < last[kv.Key] {
			t.Fatalf("after step %d %s: %s went down from version %d to %d", step, what, kv.Key, last[kv.Key], kv.Version)
		}
		last[kv.Key] = kv.Version
	}
	recs, err := s.Transactions(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(m.recs) {
		t.Fatalf("after step %d %s: %d records, model %d", step, what, len(recs), len(m.recs))
	}
	for _, r := range recs {
		w := m.recs[string(r.TxID)]
		if w == nil || r.State != w.state || !sameWrites(r.KVs, w.kvs) {
			t.Fatalf("after step %d %s: record %x is %v %v, want %+v", step, what, r.TxID[:1], r.State, r.KVs, w)
		}
	}
	err = b.View(ctx, client, func(r store.Reader) error {
		for k := range 4 {
			key := fmt.Sprintf("k%d", k)
			txid, ok, err := r.Reservation(key)
			if err != nil {
				return err
			}
			if w, wok := m.res[key]; ok != wok || (ok && string(txid) != w) {
				t.Fatalf("after step %d %s: reservation of %s is %x (%v), want %x (%v)", step, what, key, txid, ok, w, wok)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
