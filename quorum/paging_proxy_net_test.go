package quorum_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// TestCutListingsAreNeverMerged: the servers page by 2, and a man in the middle
// in front of p2 cuts its listings: it drops the "more" flag of a page, skips
// a page by moving the next request's start, or answers a page with the reply
// to the page before it (validly MACed, for another request). The quorum client names p2 faulty
// (or, for Status, failed) and answers from the others in full; it never merges
// a shortened listing as if p2 held fewer keys.
func TestCutListingsAreNeverMerged(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	net, err := testnet.Start(ctx, testnet.Config{N: 3, Dir: t.TempDir(), MaxPageItems: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Close() })
	key := newKey(t)
	c, cut := atomicThrough(t, net, key, 2)
	var kvs []provider.KV
	for i := range 9 {
		kvs = append(kvs, kv(fmt.Sprintf("k/%d", i), 0, "v"))
	}
	put(t, c, kvs...)
	// Three transactions left prepared on p2: its listing of the prepared
	// transactions, which Transactions reads, spans pages too.
	direct := dialQuorum(t, net.Providers()[2], key)
	defer direct.Close()
	for i := range 3 {
		craftTx(t, direct, participants(net, 2), kv(fmt.Sprintf("t/%d", i), 0, "v")).prepare(t, ctx, direct)
	}

	for _, tc := range []struct {
		name    string
		rewrite func(method string, req, rep proto.Message) proto.Message
		watch   func(method string, req proto.Message)
	}{
		{name: "more dropped", rewrite: func(_ string, _, rep proto.Message) proto.Message {
			switch r := rep.(type) {
			case *lsspb.GetReply:
				r.More = false
			case *lsspb.StatusReply:
				r.More = false
			}
			return rep
		}},
		{name: "page skipped", watch: func(_ string, req proto.Message) {
			switch r := req.(type) {
			case *lsspb.GetRequest:
				if r.StartAfter != nil && *r.StartAfter < "k/5" {
					r.StartAfter = proto.String("k/5") // keys up to k/5 never read
				}
			case *lsspb.StatusRequest:
				if len(r.StartAfter) > 0 {
					r.StartAfter = append(r.StartAfter, 0xff) // the next record never read
				}
			}
		}},
		{name: "earlier page replayed", rewrite: replayEarlierPage()},
	} {
		cut.rewrite(tc.rewrite)
		cut.watch(tc.watch)
		res := get(t, c, "")
		if len(res.Entries) != 9 {
			t.Errorf("%s: Get returned %d keys, want all 9 from p0 and p1", tc.name, len(res.Entries))
		}
		if st := state(t, res, "p2"); st.Status != quorum.Faulty {
			t.Errorf("%s: p2 is %v, want faulty", tc.name, st.Status)
		}
		report, err := c.Transactions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if why := report.Unreachable["p2"]; !strings.Contains(why, "HMAC") {
			t.Errorf("%s: Status of p2 gave %q, want a server HMAC failure", tc.name, why)
		}
	}
}

// replayEarlierPage is a rewrite that answers every page after a listing's
// first with the reply to the request before it.
func replayEarlierPage() func(method string, req, rep proto.Message) proto.Message {
	var mu sync.Mutex
	prev := map[string]proto.Message{}
	return func(method string, req, rep proto.Message) proto.Message {
		later := false
		switch r := req.(type) {
		case *lsspb.GetRequest:
			later = r.StartAfter != nil
		case *lsspb.StatusRequest:
			later = len(r.StartAfter) > 0
		}
		mu.Lock()
		defer mu.Unlock()
		old := prev[method]
		prev[method] = proto.Clone(rep)
		if later && old != nil {
			return proto.Clone(old)
		}
		return rep
	}
}
