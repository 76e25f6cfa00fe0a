package quorum_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// replayer is a network in front of one provider that records the last reply
// of each method it forwarded, and answers later requests of chosen methods
// with that reply instead of forwarding them: a reply, validly MACed by the
// provider, to another request.
type replayer struct {
	mu     sync.Mutex
	last   map[string]proto.Message
	replay map[string]bool
	frozen map[string]bool
}

func replayThrough(m *mitm) *replayer {
	r := &replayer{last: map[string]proto.Message{}, replay: map[string]bool{}, frozen: map[string]bool{}}
	m.rewrite(func(method string, _, rep proto.Message) proto.Message {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.frozen[method] {
			r.last[method] = proto.Clone(rep)
		}
		return rep
	})
	m.answer(func(method string, _ proto.Message) proto.Message {
		r.mu.Lock()
		defer r.mu.Unlock()
		if old, ok := r.last[method]; ok && r.replay[method] {
			return proto.Clone(old)
		}
		return nil
	})
	return r
}

// start makes the replayer answer methods with their last recorded replies.
func (r *replayer) start(t *testing.T, methods ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range methods {
		if r.last[m] == nil {
			t.Fatalf("no %s reply recorded to replay", m)
		}
		r.replay[m] = true
	}
}

// freeze keeps the replies recorded so far for methods: later ones are
// forwarded but not recorded.
func (r *replayer) freeze(methods ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range methods {
		r.frozen[m] = true
	}
}

// stop forwards every method again.
func (r *replayer) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.replay)
}

// replayNet is an atomic-mode client, in plaintext so that the providers'
// data reads back directly, whose calls to p1 and p2 go through men in the
// middle; p2's records and replays replies.
type replayNet struct {
	net    *testnet.Network
	ps     []*testnet.Provider
	key    *secp256k1.PrivateKey
	c      *quorum.Client
	m1, m2 *mitm
	r2     *replayer
}

func startReplayNet(t *testing.T) replayNet {
	t.Helper()
	net := startNet(t, 3)
	ps := net.Providers()
	m1, m2 := startMITM(t, ps[1].Addr()), startMITM(t, ps[2].Addr())
	r2 := replayThrough(m2)
	key := newKey(t)
	c := newClient(t, net, key, func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.DisableEncryption = true
		cfg.Providers[1].Addr, cfg.Providers[2].Addr = m1.addr, m2.addr
	})
	t.Cleanup(func() {
		for _, p := range ps {
			if n := preparedOn(t, p, key); n != 0 {
				t.Errorf("%s holds %d transactions prepared at the end", p.Name(), n)
			}
		}
	})
	return replayNet{net: net, ps: ps, key: key, c: c, m1: m1, m2: m2, r2: r2}
}

// holders are the providers whose own data holds key at version with value.
func (x replayNet) holders(t *testing.T, key string, version int64, value string) []string {
	t.Helper()
	var out []string
	for _, p := range x.ps {
		for _, e := range direct(t, p, x.key, key) {
			if e.Version == version && bytes.Equal(e.Value, []byte(value)) {
				out = append(out, p.Name())
			}
		}
	}
	return out
}

// wantNamed says whether errs hold an error of provider name matching target.
func wantNamed(errs []error, name string, target error) bool {
	return slices.ContainsFunc(errs, func(err error) bool {
		var pe *provider.Error
		return errors.As(err, &pe) && pe.Provider == name && errors.Is(err, target)
	})
}

// The network answers p2's Prepare with the reply p2 gave the previous put's
// Prepare ("prepared", MACed by p2 for that txid) and p1 misses the Prepare: a
// vote counted on the replay would make the put committed on one real prepare.
// The reply does not verify for this txid: p2 is named, fenced (it never
// prepared), and the put is a definite abort, written nowhere.
func TestAdversaryReplayedPrepareReplyIsNoVote(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	x := startReplayNet(t)
	put(t, x.c, kv("k", 0, "v0"))
	settle(t, x.c)

	x.m1.failWith(codes.Unavailable, "Prepare")
	x.r2.start(t, "Prepare")
	_, err := x.c.Put(ctx, []provider.KV{kv("k", 1, "v1")})
	var te *quorum.TxError
	if !errors.Is(err, quorum.ErrTxAborted) || !errors.As(err, &te) {
		t.Fatalf("put: %v, want a definite abort: p0 alone prepared", err)
	}
	if te.Views["p2"] != quorum.TxAborted || !wantNamed(te.Errs, "p2", provider.ErrServerHMAC) {
		t.Errorf("p2: view %v, errors %v; want it fenced, and its replayed reply named as failing the server HMAC", te.Views["p2"], te.Errs)
	}
	x.r2.stop()
	x.m1.heal()
	settle(t, x.c)
	if got := x.holders(t, "k", 1, "v1"); len(got) != 0 {
		t.Errorf("%v hold the aborted put", got)
	}
	wantEntries(t, get(t, x.c, ""), "k@0=v0")
}

// The network answers p2's Commit with the reply p2 gave the previous put's
// Commit ("committed", MACed by p2 for that txid) while p1's Commit is cut: a
// replay counted as an acknowledgement would return success with one provider
// holding the commit proof, where W must. The put is committed (W prepared)
// but reported indeterminate, p2 named and not acknowledged; once the network
// stops, the settler lands the put on every provider and it is read.
func TestAdversaryReplayedCommitReplyIsNoAck(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	x := startReplayNet(t)
	put(t, x.c, kv("k", 0, "v0"))
	settle(t, x.c)

	x.m1.failWith(codes.Unavailable, "Commit")
	x.r2.start(t, "Commit")
	res, err := x.c.Put(ctx, []provider.KV{kv("k", 1, "v1")})
	var te *quorum.TxError
	if !errors.Is(err, quorum.ErrIndeterminate) || !errors.As(err, &te) || te.Decision != quorum.DecidedCommit || te.Acked != 1 {
		t.Fatalf("put: %v, want committed but confirmed by p0 alone", err)
	}
	if res == nil || slices.Contains(res.Acked, "p2") || !errors.Is(res.Failed["p2"], provider.ErrServerHMAC) {
		t.Errorf("put result %+v: p2's replayed commit must fail the server HMAC, not acknowledge", res)
	}
	if got := x.holders(t, "k", 1, "v1"); !slices.Equal(got, []string{"p0"}) {
		t.Errorf("%v hold the put, want p0 only while the network answers for p2", got)
	}
	x.r2.stop()
	x.m1.heal()
	eventually(t, "the settler lands the put everywhere", func() bool {
		return len(x.holders(t, "k", 1, "v1")) == 3
	})
	wantEntries(t, get(t, x.c, ""), "k@1=v1")
}

// The network answers p2's BoundGet with the reply p2 gave an earlier read,
// from before k@1 was written: p2's listing as it was, validly MACed. The
// reply is for another nonce: p2 is named faulty (not merely behind, which is
// what a replay passing for a fresh reply would look like), and the read
// returns k@1. When the network does the same for p1 too, a majority, the read
// fails for want of valid replies rather than return what the replays hold.
func TestAdversaryReplayedGetReplyIsFaulty(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	x := startReplayNet(t)
	r1 := replayThrough(x.m1)
	put(t, x.c, kv("k", 0, "v0"))
	settle(t, x.c)
	wantEntries(t, get(t, x.c, ""), "k@0=v0") // recorded by the replayers
	put(t, x.c, kv("k", 1, "v1"))
	settle(t, x.c)

	x.r2.start(t, "BoundGet")
	res := get(t, x.c, "")
	wantEntries(t, res, "k@1=v1")
	if s := state(t, res, "p2"); s.Status != quorum.Faulty || !errors.Is(s.Err, provider.ErrServerHMAC) {
		t.Errorf("p2 is %v (%v), want faulty: its reply answers an earlier read", s.Status, s.Err)
	}

	r1.start(t, "BoundGet")
	got, err := x.c.Get(ctx, "")
	var qe *quorum.QuorumError
	if !errors.As(err, &qe) || qe.Op != "get" || qe.Got != 1 {
		t.Fatalf("get with two replayed replies: %+v, %v; want a quorum error with one valid reply", got, err)
	}
	if got != nil {
		if v, ok := got.Value("k"); ok && v.Version < 1 {
			t.Errorf("the read returned k@%d", v.Version)
		}
	}
	r1.stop()
	x.r2.stop()
	wantEntries(t, get(t, x.c, ""), "k@1=v1")
}

// The network answers p2's Status with the reply p2 gave an earlier read of
// its records, when a put's Commit had not reached it and it held the put
// prepared. The put has since settled everywhere; a replay taken at its word
// would show it pending again. The reply answers another nonce: p2's records
// count as unreadable (a server HMAC failure), nothing is pending, and
// Recover does nothing to any provider.
func TestAdversaryReplayedStatusReplyIsUnreadable(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	x := startReplayNet(t)
	x.m2.failWith(codes.Unavailable, "Commit")
	put(t, x.c, kv("k", 0, "v0"))
	eventually(t, "p2 prepares the put", func() bool { return preparedOn(t, x.ps[2], x.key) == 1 })
	read, err := x.c.Transactions(ctx) // recorded by p2's replayer
	if err != nil || len(read.Pending) != 1 {
		t.Fatalf("transactions with p2's Commit cut: %+v, %v; want the put pending", read, err)
	}
	x.r2.freeze("Status")
	x.m2.heal()
	settle(t, x.c)
	eventually(t, "p2 commits the put", func() bool { return preparedOn(t, x.ps[2], x.key) == 0 })

	x.r2.start(t, "Status")
	read, err = x.c.Transactions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Pending) != 0 {
		t.Errorf("pending %+v: the replayed records were believed", read.Pending)
	}
	if why := read.Unreachable["p2"]; !strings.Contains(why, "HMAC") {
		t.Errorf("p2's Status gave %q, want a server HMAC failure", why)
	}
	report, err := x.c.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Transactions) != 0 {
		t.Errorf("recover acted on %+v", report.Transactions)
	}
	x.r2.stop()
	wantEntries(t, get(t, x.c, ""), "k@0=v0")
}
