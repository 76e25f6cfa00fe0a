package lssd

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/memory"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// commitItem is a well-formed Commit request of id with proofs.
func (c *client) commitItem(id []byte, proofs ...[]byte) *lsspb.TxRequest {
	return &lsspb.TxRequest{Auth: c.auth(), Txid: id, Proofs: proofs,
		Hmac: wire.TxRequestMAC(c.secret, wire.DomainCommitRequest, id, proofs)}
}

// commitBatch sends items in one CommitBatch.
func (c *client) commitBatch(items ...*lsspb.TxRequest) (*lsspb.CommitBatchReply, error) {
	return c.rpc.CommitBatch(ctxT(c.t), &lsspb.CommitBatchRequest{Commits: items})
}

// prepareOne prepares one write of key under a fresh txid and returns the txid
// and the Commit item that commits it.
func (c *client) prepareOne(key string, version int64, value string) ([]byte, *lsspb.TxRequest) {
	c.t.Helper()
	id := txid(c.t)
	if r, err := c.prepare(id, kv(key, version, value)); err != nil || r.State != lsspb.TxState_TX_PREPARED {
		c.t.Fatalf("Prepare %s: %v, %v", key, r, err)
	}
	return id, c.commitItem(id, testProof(id, key))
}

// wantCommitted fails unless out is a committed reply whose MAC verifies for id
// (and for no other txid).
func (c *client) wantCommitted(what string, out *lsspb.CommitOutcome, id []byte) {
	c.t.Helper()
	r := out.GetReply()
	if r == nil || out.Code != 0 || out.Message != "" {
		c.t.Fatalf("%s: outcome %v, want a reply and no status", what, out)
	}
	if r.State != lsspb.TxState_TX_COMMITTED {
		c.t.Errorf("%s: state %v, want committed", what, r.State)
	}
	c.checkTxReply(wire.DomainCommitReply, id, r)
	other := append([]byte(nil), id...)
	other[0] ^= 1
	if bytes.Equal(r.Hmac, wire.TxReplyMAC(c.secret, wire.DomainCommitReply, other, r.State, r.Conflicts)) {
		c.t.Errorf("%s: reply MAC also verifies for another txid", what)
	}
}

// stateOf is id's state as the client's Status lists it (unknown if absent).
func (c *client) stateOf(id []byte) lsspb.TxState {
	c.t.Helper()
	for _, tx := range c.status() {
		if bytes.Equal(tx.Txid, id) {
			return tx.State
		}
	}
	return lsspb.TxState_TX_UNKNOWN
}

// TestCommitBatchCommitsEach: five prepared transactions committed in one call
// get five outcomes in request order, each a committed reply under the Commit
// reply domain binding its own txid; the writes are then readable at their new
// versions with their txids and proofs, and the records are committed.
func TestCommitBatchCommitsEach(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	c.mustPut(kv("k/0", 0, "old"))
	var ids [][]byte
	var items []*lsspb.TxRequest
	for i := range 5 {
		version := int64(0)
		if i == 0 {
			version = 1
		}
		id, item := c.prepareOne(fmt.Sprintf("k/%d", i), version, fmt.Sprintf("v%d", i))
		ids, items = append(ids, id), append(items, item)
	}
	reply, err := c.commitBatch(items...)
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	if len(reply.Outcomes) != 5 {
		t.Fatalf("%d outcomes, want 5", len(reply.Outcomes))
	}
	for i, out := range reply.Outcomes {
		c.wantCommitted(fmt.Sprintf("outcome %d", i), out, ids[i])
	}
	got := c.boundGet("k/")
	if len(got) != 5 {
		t.Fatalf("BoundGet: %v, want 5 writes", got)
	}
	for i, kv := range got {
		wantVersion := int64(0)
		if i == 0 {
			wantVersion = 1
		}
		if kv.Key != fmt.Sprintf("k/%d", i) || kv.Version != wantVersion || string(kv.Value) != fmt.Sprintf("v%d", i) {
			t.Errorf("BoundGet[%d] = %q v%d %q", i, kv.Key, kv.Version, kv.Value)
		}
		wantTxFields(t, "BoundGet", kv, ids[i], testProof(ids[i], kv.Key))
	}
	for i, id := range ids {
		if st := c.stateOf(id); st != lsspb.TxState_TX_COMMITTED {
			t.Errorf("record %d: %v, want committed", i, st)
		}
	}

	// Committing them again succeeds again, as Commit does.
	again, err := c.commitBatch(items[1], items[3])
	if err != nil {
		t.Fatalf("CommitBatch again: %v", err)
	}
	c.wantCommitted("again 0", again.Outcomes[0], ids[1])
	c.wantCommitted("again 1", again.Outcomes[1], ids[3])
}

// TestCommitBatchItemsAnswerAsCommit: each item's outcome is what a lone Commit
// of the same request answers, code and message, and refused items do not stop
// the good one.
func TestCommitBatchItemsAnswerAsCommit(t *testing.T) {
	t.Parallel()
	_, c := server(t)
	good, goodItem := c.prepareOne("good", 0, "g")

	unknown := txid(t)
	fenced := txid(t)
	if r, err := c.tx(fenceCall, fenced); err != nil || r.State != lsspb.TxState_TX_ABORTED {
		t.Fatalf("Fence: %v, %v", r, err)
	}
	badMAC, badMACItem := c.prepareOne("badmac", 0, "m")
	badMACItem.Hmac = bytes.Repeat([]byte{1}, len(badMACItem.Hmac))
	short := txid(t)
	if _, err := c.prepare(short, kv("s/a", 0, "a"), kv("s/b", 0, "b")); err != nil {
		t.Fatal(err)
	}
	wrongToken := c.commitItem(txid(t))
	wrongToken.Auth.Token = bytes.Repeat([]byte{7}, len(c.token))

	items := []*lsspb.TxRequest{
		c.commitItem(unknown),
		goodItem,
		c.commitItem(fenced),
		badMACItem,
		c.commitItem(short, testProof(short, "s/a")),
		wrongToken,
		c.commitItem([]byte("short txid")),
	}
	wantCodes := []codes.Code{codes.NotFound, codes.OK, codes.FailedPrecondition, codes.InvalidArgument,
		codes.InvalidArgument, codes.InvalidArgument, codes.InvalidArgument}
	reply, err := c.commitBatch(items...)
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	if len(reply.Outcomes) != len(items) {
		t.Fatalf("%d outcomes, want %d", len(reply.Outcomes), len(items))
	}
	c.wantCommitted("good item", reply.Outcomes[1], good)
	for i, out := range reply.Outcomes {
		if i == 1 {
			continue
		}
		if out.Reply != nil || codes.Code(out.Code) != wantCodes[i] {
			t.Errorf("item %d: outcome %v, want code %v and no reply", i, out, wantCodes[i])
		}
		_, lone := c.rpc.Commit(ctxT(t), items[i])
		if st := status.Convert(lone); uint32(st.Code()) != out.Code || st.Message() != out.Message {
			t.Errorf("item %d: batch answered %v %q, a lone Commit %v %q", i, codes.Code(out.Code), out.Message, st.Code(), st.Message())
		}
	}
	if st := c.stateOf(good); st != lsspb.TxState_TX_COMMITTED {
		t.Errorf("good txid: %v, want committed", st)
	}
	for _, id := range [][]byte{badMAC, short} {
		if st := c.stateOf(id); st != lsspb.TxState_TX_PREPARED {
			t.Errorf("refused txid %x: %v, want still prepared", id, st)
		}
	}
	wantKVs(t, "committed write", c.boundGet("good"), txKV(good, "good", 0, "g"))
}

// TestCommitBatchUnknownClient: the items of a client the server has not
// authenticated yet are authenticated as Commit authenticates them: a right
// token passes for every item, a wrong one fails each with Commit's refusal.
func TestCommitBatchUnknownClient(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	fresh := newClient(t, c.rpc, d.ServerID())
	reply, err := fresh.commitBatch(fresh.commitItem(txid(t)), fresh.commitItem(txid(t)))
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	for i, out := range reply.Outcomes {
		if codes.Code(out.Code) != codes.NotFound {
			t.Errorf("right token, item %d: %v, want NOT_FOUND (authenticated, nothing prepared)", i, out)
		}
	}

	liar := newClient(t, c.rpc, d.ServerID())
	liar.token = bytes.Repeat([]byte{9}, len(liar.token))
	items := []*lsspb.TxRequest{liar.commitItem(txid(t)), liar.commitItem(txid(t)), liar.commitItem([]byte("bad"))}
	reply, err = liar.commitBatch(items...)
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	for i, out := range reply.Outcomes {
		_, lone := liar.rpc.Commit(ctxT(t), items[i])
		if st := status.Convert(lone); uint32(st.Code()) != out.Code || st.Message() != out.Message || out.Reply != nil {
			t.Errorf("wrong token, item %d: batch answered %v %q, a lone Commit %v %q", i, codes.Code(out.Code), out.Message, st.Code(), st.Message())
		}
	}
	wantCode(t, "wrong token outcome", status.Error(codes.Code(reply.Outcomes[0].Code), reply.Outcomes[0].Message), codes.InvalidArgument, "token")
	wantCode(t, "bad txid outcome", status.Error(codes.Code(reply.Outcomes[2].Code), reply.Outcomes[2].Message), codes.InvalidArgument, "txid")
}

// TestCommitBatchRefusedWhole: a batch with no item, too many, two client_ids,
// a txid twice or an item without auth is INVALID_ARGUMENT naming the problem,
// and none of its items is applied.
func TestCommitBatchRefusedWhole(t *testing.T) {
	t.Parallel()
	d, c := server(t)
	other := newClient(t, c.rpc, d.ServerID())
	p, pItem := c.prepareOne("p", 0, "p")
	tooMany := []*lsspb.TxRequest{pItem}
	for range wire.MaxCommitBatch {
		tooMany = append(tooMany, c.commitItem(txid(t)))
	}
	noAuth := c.commitItem(txid(t))
	noAuth.Auth = nil
	for _, tc := range []struct {
		name  string
		items []*lsspb.TxRequest
		words []string
	}{
		{"empty", nil, []string{"no commits"}},
		{"65 items", tooMany, []string{"65", "64"}},
		{"two client_ids", []*lsspb.TxRequest{pItem, c.commitItem(txid(t)), other.commitItem(txid(t))}, []string{"client_id", "0 and 2"}},
		{"txid twice", []*lsspb.TxRequest{c.commitItem(txid(t)), pItem, pItem}, []string{"items 1 and 2", fmt.Sprintf("%x", p)}},
		{"no auth", []*lsspb.TxRequest{pItem, noAuth}, []string{"item 1", "auth missing"}},
	} {
		reply, err := c.commitBatch(tc.items...)
		wantCode(t, tc.name, err, codes.InvalidArgument, tc.words...)
		if reply != nil {
			t.Errorf("%s: reply %v with the refusal", tc.name, reply)
		}
		if st := c.stateOf(p); st != lsspb.TxState_TX_PREPARED {
			t.Fatalf("%s: prepared txid is now %v; nothing should have been applied", tc.name, st)
		}
	}
	wantKVs(t, "nothing written", c.boundGet("p"))
}

// TestCommitBatchBaseOnly: a base-only server answers CommitBatch
// UNIMPLEMENTED, as it answers Commit.
func TestCommitBatchBaseOnly(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.BaseOnly = true
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	_, err := c.commitBatch(c.commitItem(txid(t)))
	wantCode(t, "CommitBatch", err, codes.Unimplemented)
	_, err = c.rpc.Commit(ctxT(t), c.commitItem(txid(t)))
	wantCode(t, "Commit", err, codes.Unimplemented)
}

// TestCommitBatchFullOnBolt: a batch of the largest size commits every item on
// the embedded database, and its items' commits share storage commits (the
// lazy second phases are group-committed) rather than taking one each.
func TestCommitBatchFullOnBolt(t *testing.T) {
	t.Parallel()
	opts := boltOptions(t, t.TempDir())
	opts.MetricsAddr = "127.0.0.1:0"
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	var ids [][]byte
	var items []*lsspb.TxRequest
	for i := range wire.MaxCommitBatch {
		id, item := c.prepareOne(fmt.Sprintf("b/%02d", i), 0, fmt.Sprint(i))
		ids, items = append(ids, id), append(items, item)
	}
	page := scrape(t, d)
	count, sum := sample(page, "lssd_group_commit_batch_size_count"), sample(page, "lssd_group_commit_batch_size_sum")
	reply, err := c.commitBatch(items...)
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	// A commit's lazy second phase is answered before its storage commit ends,
	// and counted only then: wait, bounded, until all 64 are counted.
	var commits float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		page := scrape(t, d)
		commits = sample(page, "lssd_group_commit_batch_size_count") - count
		if sample(page, "lssd_group_commit_batch_size_sum")-sum >= wire.MaxCommitBatch {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5s, %v updates counted of the batch's %d", sample(page, "lssd_group_commit_batch_size_sum")-sum, wire.MaxCommitBatch)
		}
	}
	for i, out := range reply.Outcomes {
		c.wantCommitted(fmt.Sprintf("outcome %d", i), out, ids[i])
	}
	if got := c.boundGet("b/"); len(got) != wire.MaxCommitBatch {
		t.Errorf("BoundGet: %d writes, want %d", len(got), wire.MaxCommitBatch)
	}
	t.Logf("%d commits in %v storage commits", wire.MaxCommitBatch, commits)
	if commits >= wire.MaxCommitBatch {
		t.Errorf("%v storage commits for %d items: none shared a commit", commits, wire.MaxCommitBatch)
	}
}

// TestCommitBatchNewClientLimit: a batch of a client the server has not
// authenticated counts against the new-client limit once per distinct token
// its items present, the ECDHs it may cost, and never more than the burst.
func TestCommitBatchNewClientLimit(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Limits.NewClientsPerSecond = 0.001
	opts.Limits.NewClientsBurst = 3
	d := startDaemon(t, opts)
	rpc := dial(t, d.Addr())
	liar := newClient(t, rpc, d.ServerID())
	var items []*lsspb.TxRequest
	for i := range 2 {
		item := liar.commitItem(txid(t))
		item.Auth.Token = bytes.Repeat([]byte{byte(i + 1)}, len(liar.token))
		items = append(items, item)
	}
	if _, err := liar.commitBatch(items...); err != nil {
		t.Fatalf("batch of 2 tokens (2 of the burst of 3): %v", err)
	}
	if _, err := liar.commitBatch(items...); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("second batch of 2 tokens with 1 left: %v, want RESOURCE_EXHAUSTED", err)
	}
	// One more new client still fits the one left.
	fresh := newClient(t, rpc, d.ServerID())
	if _, err := fresh.commitBatch(fresh.commitItem(txid(t))); err != nil {
		t.Fatalf("batch of one new client: %v", err)
	}

	// More distinct tokens than the burst take the whole burst, not more.
	a := newAuthenticator(nil, 10)
	l := newNewClientLimiter(a, 0.001, 3)
	p := netip.MustParsePrefix("192.0.2.1/32")
	if !l.allow(p, 64) {
		t.Error("a batch of 64 tokens is refused by a full bucket of 3")
	}
	if l.allow(p, 0) {
		t.Error("a request is taken from an empty bucket")
	}
}

// TestCommitBatchLogsClientID: the call log names the batch's client_id.
func TestCommitBatchLogsClientID(t *testing.T) {
	c := &client{id: []byte{0xab, 0xcd}}
	req := &lsspb.CommitBatchRequest{Commits: []*lsspb.TxRequest{{Auth: c.auth()}}}
	if got := clientID(req); got != "abcd" {
		t.Errorf("clientID = %q, want abcd", got)
	}
	if got := clientID(&lsspb.CommitBatchRequest{}); got != "" {
		t.Errorf("clientID of an empty batch = %q", got)
	}
	if got := clientID(&lsspb.TxRequest{Auth: c.auth()}); !strings.EqualFold(got, "ABCD") {
		t.Errorf("clientID of a Commit = %q", got)
	}
}

// barrierBackend is a memory backend whose lazy updates (the second phase of a
// commit) wait until want of them are in flight at once, or until giveUp after
// the first arrived, counting those that gave up.
type barrierBackend struct {
	*memory.Backend
	want    int64
	entered atomic.Int64
	gaveUp  atomic.Int64
	all     chan struct{}
	giveUp  chan struct{}
	first   sync.Once
}

func (b *barrierBackend) UpdateLazy(ctx context.Context, client []byte, fn func(store.Txn) error) error {
	b.first.Do(func() { time.AfterFunc(3*time.Second, func() { close(b.giveUp) }) })
	if b.entered.Add(1) == b.want {
		close(b.all)
	}
	select {
	case <-b.all:
	case <-b.giveUp:
		b.gaveUp.Add(1)
	}
	return b.Backend.Update(ctx, client, fn)
}

// TestCommitBatchRunsItemsTogether: a batch's items reach the store at once, so
// that a backend that groups concurrent updates can commit them in one batch; a
// server running them one after the other would leave the first waiting for the
// others until it gives up.
func TestCommitBatchRunsItemsTogether(t *testing.T) {
	t.Parallel()
	const n = 8
	b := &barrierBackend{Backend: newMemory(t), want: n, all: make(chan struct{}), giveUp: make(chan struct{})}
	opts := testOptions(t)
	opts.Backend = b
	d := startDaemon(t, opts)
	c := newClient(t, dial(t, d.Addr()), d.ServerID())
	var ids [][]byte
	var items []*lsspb.TxRequest
	for i := range n {
		id, item := c.prepareOne(fmt.Sprintf("t/%d", i), 0, "v")
		ids, items = append(ids, id), append(items, item)
	}
	reply, err := c.commitBatch(items...)
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	for i, out := range reply.Outcomes {
		c.wantCommitted(fmt.Sprintf("outcome %d", i), out, ids[i])
	}
	if got := b.gaveUp.Load(); got != 0 {
		t.Errorf("%d of %d commits waited 3s for the others: the items did not run together", got, n)
	}
}
