package lssd

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
)

func TestBoundGetCoversPrefix(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("x1", 0, "a"), kv("x2", 0, "b"), kv("y", 0, "c"))
	nonce := []byte("n")
	reply, err := c.rpc.BoundGet(ctxT(t), &lsspb.GetRequest{Auth: c.auth(), KeyPrefix: "x", Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "bound get", reply.Kvs, kv("x1", 0, "a"), kv("x2", 0, "b"))
	if !bytes.Equal(reply.Hmac, wire.BoundGetReplyMAC(c.secret, "x", nonce, reply.Kvs)) {
		t.Error("BoundGet MAC does not verify")
	}
	// The same kvs under a longer prefix (what a man-in-the-middle would claim)
	// must not verify.
	if bytes.Equal(reply.Hmac, wire.BoundGetReplyMAC(c.secret, "x1", nonce, reply.Kvs)) {
		t.Error("BoundGet MAC does not depend on the prefix")
	}
}

func restoreRequest(c *client, kvs ...*lsspb.KeyValue) *lsspb.RestoreRequest {
	return &lsspb.RestoreRequest{Auth: c.auth(), Kvs: kvs, Hmac: wire.RestoreRequestMAC(c.secret, kvs)}
}

func TestRestoreIsForwardOnly(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("a", 0, "a0"), kv("c", 0, "c0"), kv("r", 0, "r0"))
	c.mustPut(kv("c", 1, "c1"))
	c.mustPut(kv("c", 2, "c2"))
	holder := txid(t)
	if _, err := c.prepare(holder, kv("r", 1, "r1")); err != nil {
		t.Fatal(err)
	}

	req := restoreRequest(c, kv("a", 5, "a5"), kv("b", 0, "b0"), kv("c", 1, "old"), kv("c2", 3, "z"), kv("r", 7, "r7"))
	reply, err := c.rpc.Restore(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(reply.Applied) != "[a b c2]" {
		t.Errorf("applied = %v, want [a b c2]", reply.Applied)
	}
	wantKVs(t, "kept", reply.Kept, kv("c", 2, "c2"), kv("r", 0, "r0"))
	if !bytes.Equal(reply.Hmac, wire.RestoreReplyMAC(c.secret, req.Hmac, reply.Applied, reply.Kept, reply.ReservedBy)) {
		t.Error("Restore reply MAC does not verify")
	}
	wantKVs(t, "after restore", c.get(""),
		kv("a", 5, "a5"), kv("b", 0, "b0"), kv("c", 2, "c2"), kv("c2", 3, "z"), kv("r", 0, "r0"))
}

func TestRestoreBadInput(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	other := newClient(t, c.rpc, d.ServerID())
	id := txid(t)
	c.mustPut(kv("k", 0, "v"))
	bump := []*lsspb.KeyValue{kv("k", 9, "evil")}
	cases := []struct {
		name  string
		req   *lsspb.RestoreRequest
		code  codes.Code
		words []string
	}{
		{"auth missing", &lsspb.RestoreRequest{Kvs: bump, Hmac: wire.RestoreRequestMAC(c.secret, bump)}, codes.InvalidArgument, []string{"auth"}},
		{"unsorted", restoreRequest(c, kv("z", 1, ""), kv("k", 9, "")), codes.InvalidArgument, []string{"ascending"}},
		{"duplicate keys", restoreRequest(c, kv("k", 9, "x"), kv("k", 10, "y")), codes.InvalidArgument, []string{"duplicate", `"k"`}},
		{"empty auth", &lsspb.RestoreRequest{Auth: &lsspb.Auth{}, Kvs: bump, Hmac: wire.RestoreRequestMAC(c.secret, bump)}, codes.Unauthenticated, []string{"client_id"}},
		{"client_id too short", &lsspb.RestoreRequest{Auth: &lsspb.Auth{ClientId: c.id[:32], Token: c.token}, Kvs: bump,
			Hmac: wire.RestoreRequestMAC(c.secret, bump)}, codes.Unauthenticated, []string{"client_id", "32 bytes"}},
		{"wrong token", &lsspb.RestoreRequest{Auth: &lsspb.Auth{ClientId: c.id, Token: other.token}, Kvs: bump,
			Hmac: wire.RestoreRequestMAC(c.secret, bump)}, codes.InvalidArgument, []string{"token"}},
		{"missing token", &lsspb.RestoreRequest{Auth: &lsspb.Auth{ClientId: c.id}, Kvs: bump,
			Hmac: wire.RestoreRequestMAC(c.secret, bump)}, codes.InvalidArgument, []string{"token"}},
		{"missing mac", &lsspb.RestoreRequest{Auth: c.auth(), Kvs: bump}, codes.InvalidArgument, []string{"hmac"}},
		{"bad mac", &lsspb.RestoreRequest{Auth: c.auth(), Kvs: bump, Hmac: wire.PutRequestHMAC(c.secret, bump)}, codes.InvalidArgument, []string{"hmac"}},
		{"other client's mac", &lsspb.RestoreRequest{Auth: c.auth(), Kvs: bump, Hmac: wire.RestoreRequestMAC(other.secret, bump)},
			codes.InvalidArgument, []string{"hmac"}},
		{"negative version", restoreRequest(c, kv("k", -5, "")), codes.InvalidArgument, []string{"negative", `"k"`}},
		{"long txid", restoreRequest(c, &lsspb.KeyValue{Key: "k", Version: 9, Txid: make([]byte, 65)}), codes.InvalidArgument,
			[]string{`"k"`, "txid of 65 bytes"}},
		{"overlong proof", restoreRequest(c, &lsspb.KeyValue{Key: "k", Version: 9, Txid: id, Proof: make([]byte, 65)}), codes.InvalidArgument,
			[]string{`"k"`, "proof of 65 bytes", "at most 64"}},
	}
	for _, tc := range cases {
		_, err := c.rpc.Restore(ctxT(t), tc.req)
		wantCode(t, tc.name, err, tc.code, tc.words...)
	}
	wantKVs(t, "nothing written", c.get(""), kv("k", 0, "v"))
	wantKVs(t, "nothing written for the other client", other.get(""))
}

// TestTxStateTable drives every request of docs/design.md's table from every state.
func TestTxStateTable(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	states := []string{"none", "prepared", "committed", "aborted"}
	// setup brings a fresh txid writing key to state.
	setup := func(state, key string) []byte {
		id := txid(t)
		switch state {
		case "prepared", "committed":
			if r, err := c.prepare(id, kv(key, 0, "v")); err != nil || r.State != lsspb.TxState_TX_PREPARED {
				t.Fatalf("setup prepare: %v %v", r, err)
			}
			if state == "committed" {
				if _, err := c.tx(commitCall, id); err != nil {
					t.Fatal(err)
				}
			}
		case "aborted":
			if _, err := c.tx(abortCall, id); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	type outcome struct {
		state lsspb.TxState
		code  codes.Code
	}
	ok := func(s lsspb.TxState) outcome { return outcome{state: s} }
	refused := func(code codes.Code) outcome { return outcome{code: code} }
	table := map[string][4]outcome{
		"Prepare": {ok(lsspb.TxState_TX_PREPARED), ok(lsspb.TxState_TX_PREPARED), ok(lsspb.TxState_TX_COMMITTED), ok(lsspb.TxState_TX_ABORTED)},
		"Commit":  {refused(codes.NotFound), ok(lsspb.TxState_TX_COMMITTED), ok(lsspb.TxState_TX_COMMITTED), refused(codes.FailedPrecondition)},
		"Fence":   {ok(lsspb.TxState_TX_ABORTED), ok(lsspb.TxState_TX_PREPARED), ok(lsspb.TxState_TX_COMMITTED), ok(lsspb.TxState_TX_ABORTED)},
		"Abort":   {ok(lsspb.TxState_TX_ABORTED), ok(lsspb.TxState_TX_ABORTED), refused(codes.FailedPrecondition), ok(lsspb.TxState_TX_ABORTED)},
	}
	calls := map[string]txCall{"Commit": commitCall, "Fence": fenceCall, "Abort": abortCall}
	for _, req := range []string{"Prepare", "Commit", "Fence", "Abort"} {
		for i, from := range states {
			name := req + " from " + from
			key := req + "/" + from
			id := setup(from, key)
			var reply *lsspb.TxReply
			var err error
			if req == "Prepare" {
				reply, err = c.prepare(id, kv(key, 0, "v"))
			} else {
				reply, err = c.tx(calls[req], id)
			}
			want := table[req][i]
			if want.code != codes.OK {
				wantCode(t, name, err, want.code, hex.EncodeToString(id))
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if reply.State != want.state || len(reply.Conflicts) != 0 {
				t.Errorf("%s: state %v conflicts %v, want %v", name, reply.State, reply.Conflicts, want.state)
			}
		}
	}
	// What became visible: exactly the keys of committed transactions.
	wantKVs(t, "visible", c.get(""),
		kv("Abort/committed", 0, "v"), kv("Commit/committed", 0, "v"), kv("Commit/prepared", 0, "v"),
		kv("Fence/committed", 0, "v"), kv("Prepare/committed", 0, "v"))
	// Keys of aborted transactions are free again; keys of prepared ones are not.
	c.mustPut(kv("Abort/prepared", 0, "free"))
	if r := c.put(kv("Fence/prepared", 0, "x")); r.Success {
		t.Error("put on a key reserved by a prepared transaction succeeded")
	}
}

func TestPrepareConflicts(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("a", 0, "a0"))
	holder := txid(t)
	if r, err := c.prepare(holder, kv("a", 1, "a1"), kv("b", 0, "b0")); err != nil || r.State != lsspb.TxState_TX_PREPARED {
		t.Fatalf("prepare: %v %v", r, err)
	}
	wantKVs(t, "prepared writes are invisible", c.get(""), kv("a", 0, "a0"))

	// A Put on a reserved key: a conflict naming the reservation.
	reply := c.put(kv("a", 1, "x"), kv("c", 0, "c0"))
	if reply.Success {
		t.Fatal("put on a reserved key succeeded")
	}
	wantKVs(t, "put conflicts", reply.Conflicts, kv("a", 0, "a0"))
	if len(reply.Reservations) != 1 || !bytes.Equal(reply.Reservations[0].ReservedBy, holder) ||
		reply.Reservations[0].Stored.GetKey() != "a" {
		t.Errorf("reservations = %v, want key a held by %x", reply.Reservations, holder)
	}

	// A Prepare on a reserved key and with a stale version: TX_UNKNOWN with both
	// conflicts in request order, and no record left.
	other := txid(t)
	r, err := c.prepare(other, kv("a", 0, "y"), kv("b", 0, "y"), kv("d", 0, "y"))
	if err != nil {
		t.Fatal(err)
	}
	if r.State != lsspb.TxState_TX_UNKNOWN || len(r.Conflicts) != 2 {
		t.Fatalf("conflicting prepare: state %v conflicts %v", r.State, r.Conflicts)
	}
	wantKVs(t, "prepare conflicts", []*lsspb.KeyValue{r.Conflicts[0].Stored, r.Conflicts[1].Stored}, kv("a", 0, "a0"), kv("b", -1, ""))
	for i, c := range r.Conflicts {
		if !bytes.Equal(c.ReservedBy, holder) {
			t.Errorf("conflict %d reserved_by %x, want %x", i, c.ReservedBy, holder)
		}
	}
	for _, tx := range c.status() {
		if bytes.Equal(tx.Txid, other) {
			t.Error("a refused prepare left a record")
		}
	}

	// Preparing the holder again with other writes is refused and names the txid.
	_, err = c.prepare(holder, kv("a", 1, "different"), kv("b", 0, "b0"))
	wantCode(t, "prepare mismatch", err, codes.FailedPrecondition, hex.EncodeToString(holder))

	if _, err := c.tx(commitCall, holder); err != nil {
		t.Fatal(err)
	}
	wantKVs(t, "after commit", c.get(""), kv("a", 1, "a1"), kv("b", 0, "b0"))
	c.mustPut(kv("a", 2, "a2"))
}

func TestTxBadInput(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	other := newClient(t, c.rpc, d.ServerID())
	id := txid(t)
	kvs := []*lsspb.KeyValue{kv("k", 0, "v")}
	// signed is a Prepare of kvs under id recording participants and w, with its MAC.
	signed := func(id []byte, kvs []*lsspb.KeyValue, participants [][]byte, w int32) *lsspb.PrepareRequest {
		return &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: kvs, Participants: participants, WriteQuorum: w,
			Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, participants, w, nil)}
	}
	p := ids(3)
	long := bytes.Repeat([]byte{9}, 65)

	prepares := []struct {
		name  string
		req   *lsspb.PrepareRequest
		code  codes.Code
		words []string
	}{
		{"auth missing", &lsspb.PrepareRequest{Txid: id, Kvs: kvs, Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, nil, 0, nil)}, codes.InvalidArgument, []string{"auth"}},
		{"unsorted", &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: []*lsspb.KeyValue{kv("z", 0, ""), kv("a", 0, "")}}, codes.InvalidArgument, []string{"ascending"}},
		{"short txid", &lsspb.PrepareRequest{Auth: c.auth(), Txid: id[:15], Kvs: kvs, Hmac: wire.PrepareRequestMAC(c.secret, id[:15], kvs, nil, 0, nil)}, codes.InvalidArgument, []string{"txid"}},
		{"long txid", &lsspb.PrepareRequest{Auth: c.auth(), Txid: make([]byte, 65), Kvs: kvs, Hmac: wire.PrepareRequestMAC(c.secret, make([]byte, 65), kvs, nil, 0, nil)}, codes.InvalidArgument, []string{"txid"}},
		{"empty txid", signed(nil, kvs, nil, 0), codes.InvalidArgument, []string{"txid of 0 bytes", "16 to 64"}},
		{"duplicate keys", signed(id, []*lsspb.KeyValue{kv("k", 0, "v"), kv("k", 0, "w")}, nil, 0), codes.InvalidArgument, []string{"duplicate", `"k"`}},
		{"empty auth", &lsspb.PrepareRequest{Auth: &lsspb.Auth{}, Txid: id, Kvs: kvs}, codes.Unauthenticated, []string{"client_id"}},
		{"client_id too short", &lsspb.PrepareRequest{Auth: &lsspb.Auth{ClientId: c.id[:32], Token: c.token}, Txid: id, Kvs: kvs}, codes.Unauthenticated, []string{"client_id", "32 bytes"}},
		{"missing hmac", &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: kvs}, codes.InvalidArgument, []string{"hmac"}},
		{"participants out of order", signed(id, kvs, [][]byte{p[0], p[2], p[1]}, 2), codes.InvalidArgument,
			[]string{"participants[2]", "ascending"}},
		{"repeated participant", signed(id, kvs, [][]byte{p[0], p[1], p[1]}, 2), codes.InvalidArgument,
			[]string{"participants[2] repeats participants[1]"}},
		{"empty participant", signed(id, kvs, [][]byte{{}, p[0]}, 1), codes.InvalidArgument, []string{"participants[0]", "0 bytes"}},
		{"overlong participant", signed(id, kvs, [][]byte{p[0], long}, 1), codes.InvalidArgument, []string{"participants[1]", "65 bytes"}},
		{"too many participants", signed(id, kvs, manyIDs(256), 2), codes.InvalidArgument, []string{"256 participants", "255"}},
		{"negative write_quorum", signed(id, kvs, p, -1), codes.InvalidArgument, []string{"write_quorum -1"}},
		{"write_quorum without participants", signed(id, kvs, nil, 2), codes.InvalidArgument, []string{"write_quorum 2", "no participants"}},
		{"wrong token", &lsspb.PrepareRequest{Auth: &lsspb.Auth{ClientId: c.id, Token: other.token}, Txid: id, Kvs: kvs, Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, nil, 0, nil)}, codes.InvalidArgument, []string{"token"}},
		{"bad mac", &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: kvs, Hmac: wire.PrepareRequestMAC(c.secret, txid(t), kvs, nil, 0, nil)}, codes.InvalidArgument, []string{"hmac"}},
		{"quorum above participants", signed(id, kvs, ids(2), 3), codes.InvalidArgument, []string{"write_quorum 3 of 2 participants"}},
		{"participants without quorum", signed(id, kvs, ids(3), 0), codes.InvalidArgument, []string{"write_quorum 0 of 3 participants"}},
		{"quorum not under the mac", &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: kvs, Participants: ids(3), WriteQuorum: 1,
			Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, ids(3), 2, nil)}, codes.InvalidArgument, []string{"hmac"}},
		{"participants not under the mac", &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: kvs, Participants: ids(3), WriteQuorum: 2,
			Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, ids(4)[1:], 2, nil)}, codes.InvalidArgument, []string{"hmac"}},
		{"put mac", &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)}, codes.InvalidArgument, []string{"hmac"}},
	}
	for _, tc := range prepares {
		_, err := c.rpc.Prepare(ctxT(t), tc.req)
		wantCode(t, "Prepare: "+tc.name, err, tc.code, tc.words...)
	}

	// Commit, Fence and Abort: a MAC from another domain (a replayed message of
	// another kind) is refused like any bad MAC.
	for _, call := range []txCall{commitCall, fenceCall, abortCall} {
		for _, otherCall := range []txCall{commitCall, fenceCall, abortCall} {
			if otherCall.name == call.name {
				continue
			}
			_, err := call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: c.auth(), Txid: id, Hmac: wire.TxRequestMAC(c.secret, otherCall.domains[0], id, nil)})
			wantCode(t, call.name+" with "+otherCall.name+" MAC", err, codes.InvalidArgument, "hmac")
		}
		_, err := call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Txid: id, Hmac: wire.TxRequestMAC(c.secret, call.domains[0], id, nil)})
		wantCode(t, call.name+": auth missing", err, codes.InvalidArgument, "auth")
		_, err = call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: c.auth(), Txid: id[:8], Hmac: wire.TxRequestMAC(c.secret, call.domains[0], id[:8], nil)})
		wantCode(t, call.name+": short txid", err, codes.InvalidArgument, "txid")
		_, err = call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: c.auth(), Hmac: wire.TxRequestMAC(c.secret, call.domains[0], nil, nil)})
		wantCode(t, call.name+": empty txid", err, codes.InvalidArgument, "txid of 0 bytes", "16 to 64")
		_, err = call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: c.auth(), Txid: long, Hmac: wire.TxRequestMAC(c.secret, call.domains[0], long, nil)})
		wantCode(t, call.name+": long txid", err, codes.InvalidArgument, "txid of 65 bytes", "16 to 64")
		_, err = call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: &lsspb.Auth{}, Txid: id})
		wantCode(t, call.name+": empty auth", err, codes.Unauthenticated, "client_id")
		_, err = call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: &lsspb.Auth{ClientId: c.id, Token: other.token}, Txid: id,
			Hmac: wire.TxRequestMAC(c.secret, call.domains[0], id, nil)})
		wantCode(t, call.name+": wrong token", err, codes.InvalidArgument, "token")
		_, err = call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: c.auth(), Txid: id})
		wantCode(t, call.name+": missing hmac", err, codes.InvalidArgument, "hmac")
		_, err = call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: c.auth(), Txid: id, Hmac: wire.TxRequestMAC(other.secret, call.domains[0], id, nil)})
		wantCode(t, call.name+": other client's MAC", err, codes.InvalidArgument, "hmac")
	}
	_, err := c.rpc.Status(ctxT(t), &lsspb.StatusRequest{})
	wantCode(t, "Status: auth missing", err, codes.InvalidArgument, "auth")
	_, err = c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: &lsspb.Auth{ClientId: c.id}})
	wantCode(t, "Status: missing token", err, codes.InvalidArgument, "token")
	_, err = c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: &lsspb.Auth{ClientId: c.id, Token: other.token}})
	wantCode(t, "Status: wrong token", err, codes.InvalidArgument, "token")
	_, err = c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: &lsspb.Auth{}})
	wantCode(t, "Status: empty auth", err, codes.Unauthenticated, "client_id")

	if txs := c.status(); len(txs) != 0 {
		t.Errorf("bad requests left records: %v", txs)
	}
	wantKVs(t, "nothing written", c.get(""))
}

func TestStatusListsRecords(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	before := time.Now().Add(-time.Second).UnixMilli()
	prepared, committed, aborted := txid(t), txid(t), txid(t)
	if _, err := c.prepare(prepared, kv("p", 0, "pv")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.prepare(committed, kv("q", 0, "qv")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.tx(commitCall, committed); err != nil {
		t.Fatal(err)
	}
	if _, err := c.tx(fenceCall, aborted); err != nil {
		t.Fatal(err)
	}
	txs := c.status()
	if len(txs) != 3 {
		t.Fatalf("status has %d transactions, want 3: %v", len(txs), txs)
	}
	want := map[string]lsspb.TxState{
		string(prepared): lsspb.TxState_TX_PREPARED, string(committed): lsspb.TxState_TX_COMMITTED, string(aborted): lsspb.TxState_TX_ABORTED,
	}
	for i, tx := range txs {
		if i > 0 && bytes.Compare(txs[i-1].Txid, tx.Txid) >= 0 {
			t.Error("transactions not in ascending txid order")
		}
		if tx.State != want[string(tx.Txid)] {
			t.Errorf("txid %x: state %v, want %v", tx.Txid, tx.State, want[string(tx.Txid)])
		}
		if tx.UpdatedUnixMs < before || tx.UpdatedUnixMs > time.Now().Add(time.Second).UnixMilli() {
			t.Errorf("txid %x: updated_unix_ms %d out of range", tx.Txid, tx.UpdatedUnixMs)
		}
		if bytes.Equal(tx.Txid, prepared) {
			wantKVs(t, "prepared kvs", tx.Kvs, kv("p", 0, "pv"))
		}
	}
	// Another client sees none of them.
	if txs := newClient(t, c.rpc, d.ServerID()).status(); len(txs) != 0 {
		t.Errorf("other client sees %d transactions", len(txs))
	}
}

func TestBaseOnlyAnswersUnimplemented(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.BaseOnly = true
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	c.mustPut(kv("k", 0, "v"))
	wantKVs(t, "base get", c.get(""), kv("k", 0, "v"))

	id := txid(t)
	kvs := []*lsspb.KeyValue{kv("k", 1, "w")}
	calls := map[string]error{}
	_, calls["BoundGet"] = c.rpc.BoundGet(ctxT(t), &lsspb.GetRequest{Auth: c.auth()})
	_, calls["Restore"] = c.rpc.Restore(ctxT(t), restoreRequest(c, kvs...))
	_, calls["Prepare"] = c.rpc.Prepare(ctxT(t), &lsspb.PrepareRequest{Auth: c.auth(), Txid: id, Kvs: kvs, Hmac: wire.PrepareRequestMAC(c.secret, id, kvs, nil, 0, nil)})
	for _, call := range []txCall{commitCall, fenceCall, abortCall} {
		_, calls[call.name] = call.call(c.rpc, ctxT(t), &lsspb.TxRequest{Auth: c.auth(), Txid: id, Hmac: wire.TxRequestMAC(c.secret, call.domains[0], id, nil)})
	}
	_, calls["Status"] = c.rpc.Status(ctxT(t), &lsspb.StatusRequest{Auth: c.auth()})
	if len(calls) != 7 {
		t.Fatalf("checked %d extension RPCs, want 7", len(calls))
	}
	for name, err := range calls {
		wantCode(t, name, err, codes.Unimplemented)
	}
	wantKVs(t, "unchanged", c.get(""), kv("k", 0, "v"))
}

func TestPrunerDeletesExpiredDecidedRecords(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Retention = time.Millisecond
	opts.PruneInterval = 20 * time.Millisecond
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	pending, fenced := txid(t), txid(t)
	if _, err := c.prepare(pending, kv("p", 0, "v")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.tx(fenceCall, fenced); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		txs := c.status()
		if len(txs) == 1 {
			if !bytes.Equal(txs[0].Txid, pending) {
				t.Fatalf("the remaining record is %x, want the prepared %x", txs[0].Txid, pending)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("decided record not pruned within 5s: %v", txs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Several more passes leave the prepared record alone.
	time.Sleep(100 * time.Millisecond)
	if txs := c.status(); len(txs) != 1 {
		t.Errorf("prepared record pruned: %v", txs)
	}
}

// manyIDs returns n (up to 65536) distinct 33-byte participant ids in ascending
// order: for more participants than ids gives.
func manyIDs(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		id := make([]byte, 33)
		id[0], id[1], id[2] = 0x02, byte(i>>8), byte(i)
		out[i] = id
	}
	return out
}

// ids returns n distinct participant ids in ascending order.
func ids(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Repeat([]byte{byte(i + 1)}, 33)
	}
	return out
}
