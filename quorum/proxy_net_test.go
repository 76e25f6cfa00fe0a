package quorum_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// mitm is a man in the middle in front of a real lssd: it forwards every call,
// and a test makes it answer chosen methods with UNIMPLEMENTED (which nothing
// authenticates) or watch every request, as a provider that keeps what it was
// sent would.
type mitm struct {
	lsspb.UnimplementedLightningStorageServer
	up   lsspb.LightningStorageClient
	addr string

	mu       sync.Mutex
	refuse   map[string]codes.Code
	forge    map[string]codes.Code
	watcher  func(method string, req proto.Message)
	rewriter func(method string, req, rep proto.Message) proto.Message
	answerer func(method string, req proto.Message) proto.Message
}

// startMITM serves a mitm in front of the server at upstream.
func startMITM(t *testing.T, upstream string) *mitm {
	t.Helper()
	conn, err := grpc.NewClient(upstream, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	p := &mitm{up: lsspb.NewLightningStorageClient(conn), refuse: map[string]codes.Code{}, forge: map[string]codes.Code{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	lsspb.RegisterLightningStorageServer(srv, p)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		<-done
		conn.Close()
	})
	p.addr = lis.Addr().String()
	return p
}

// refuseWithUnimplemented makes the named methods answer UNIMPLEMENTED.
func (p *mitm) refuseWithUnimplemented(methods ...string) {
	p.failWith(codes.Unimplemented, methods...)
}

// failWith makes the named methods fail with code without reaching the server,
// as a cut connection would.
func (p *mitm) failWith(code codes.Code, methods ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range methods {
		p.refuse[m] = code
	}
}

// forgeStatus makes the named methods reach the server, which acts on them,
// and then answers code in place of the server's reply.
func (p *mitm) forgeStatus(code codes.Code, methods ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range methods {
		p.forge[m] = code
	}
}

// heal forwards every method again.
func (p *mitm) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.refuse)
	clear(p.forge)
}

// watch installs a hook that sees every request before it is forwarded.
func (p *mitm) watch(f func(method string, req proto.Message)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.watcher = f
}

// rewrite installs a hook that sees every reply and may answer another one
// instead, as a provider that lies would (it holds the shared secret, so it can
// MAC whatever it says).
func (p *mitm) rewrite(f func(method string, req, rep proto.Message) proto.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewriter = f
}

// answer installs a hook that may answer a request itself, without forwarding
// it (a nil answer forwards it), as a network answering for a provider would.
func (p *mitm) answer(f func(method string, req proto.Message) proto.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answerer = f
}

func relay[Req, Rep proto.Message](p *mitm, method string, req Req, call func(Req) (Rep, error)) (Rep, error) {
	var zero Rep
	p.mu.Lock()
	code, refused := p.refuse[method]
	forged, forges := p.forge[method]
	watcher, rewriter, answerer := p.watcher, p.rewriter, p.answerer
	p.mu.Unlock()
	if refused {
		return zero, status.Errorf(code, "method %s refused by the man in the middle", method)
	}
	if answerer != nil {
		if rep := answerer(method, req); rep != nil {
			return rep.(Rep), nil
		}
	}
	if watcher != nil {
		watcher(method, req)
	}
	rep, err := call(req)
	if forges {
		return zero, status.Errorf(forged, "the man in the middle answers %s for the server", method)
	}
	if err == nil && rewriter != nil && rep.ProtoReflect().IsValid() {
		rep = rewriter(method, req, rep).(Rep)
	}
	return rep, err
}

func (p *mitm) Ping(ctx context.Context, r *lsspb.PingRequest) (*lsspb.PingReply, error) {
	return relay(p, "Ping", r, func(r *lsspb.PingRequest) (*lsspb.PingReply, error) { return p.up.Ping(ctx, r) })
}

func (p *mitm) Info(ctx context.Context, r *lsspb.InfoRequest) (*lsspb.InfoReply, error) {
	return relay(p, "Info", r, func(r *lsspb.InfoRequest) (*lsspb.InfoReply, error) { return p.up.Info(ctx, r) })
}

func (p *mitm) Put(ctx context.Context, r *lsspb.PutRequest) (*lsspb.PutReply, error) {
	return relay(p, "Put", r, func(r *lsspb.PutRequest) (*lsspb.PutReply, error) { return p.up.Put(ctx, r) })
}

func (p *mitm) Get(ctx context.Context, r *lsspb.GetRequest) (*lsspb.GetReply, error) {
	return relay(p, "Get", r, func(r *lsspb.GetRequest) (*lsspb.GetReply, error) { return p.up.Get(ctx, r) })
}

func (p *mitm) BoundGet(ctx context.Context, r *lsspb.GetRequest) (*lsspb.GetReply, error) {
	return relay(p, "BoundGet", r, func(r *lsspb.GetRequest) (*lsspb.GetReply, error) { return p.up.BoundGet(ctx, r) })
}

func (p *mitm) Restore(ctx context.Context, r *lsspb.RestoreRequest) (*lsspb.RestoreReply, error) {
	return relay(p, "Restore", r, func(r *lsspb.RestoreRequest) (*lsspb.RestoreReply, error) { return p.up.Restore(ctx, r) })
}

func (p *mitm) Prepare(ctx context.Context, r *lsspb.PrepareRequest) (*lsspb.TxReply, error) {
	return relay(p, "Prepare", r, func(r *lsspb.PrepareRequest) (*lsspb.TxReply, error) { return p.up.Prepare(ctx, r) })
}

func (p *mitm) Commit(ctx context.Context, r *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return relay(p, "Commit", r, func(r *lsspb.TxRequest) (*lsspb.TxReply, error) { return p.up.Commit(ctx, r) })
}

func (p *mitm) Fence(ctx context.Context, r *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return relay(p, "Fence", r, func(r *lsspb.TxRequest) (*lsspb.TxReply, error) { return p.up.Fence(ctx, r) })
}

func (p *mitm) Abort(ctx context.Context, r *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return relay(p, "Abort", r, func(r *lsspb.TxRequest) (*lsspb.TxReply, error) { return p.up.Abort(ctx, r) })
}

func (p *mitm) Status(ctx context.Context, r *lsspb.StatusRequest) (*lsspb.StatusReply, error) {
	return relay(p, "Status", r, func(r *lsspb.StatusRequest) (*lsspb.StatusReply, error) { return p.up.Status(ctx, r) })
}

// keptPrepares are the Prepare requests a mitm kept, as a provider that keeps
// the sealed entries it was sent would.
type keptPrepares struct {
	mu     sync.Mutex
	byTxID map[string]*lsspb.PrepareRequest
	last   *lsspb.PrepareRequest
}

// atomicThrough is an atomic-mode client of net whose calls to provider i go
// through a man in the middle started for it, returned with it; edits adjust
// the configuration further.
func atomicThrough(t *testing.T, net *testnet.Network, key *secp256k1.PrivateKey, i int, edits ...func(*quorum.Config)) (*quorum.Client, *mitm) {
	t.Helper()
	m := startMITM(t, net.Providers()[i].Addr())
	route := func(cfg *quorum.Config) {
		cfg.Mode = quorum.ModeAtomic
		cfg.Providers[i].Addr = m.addr
	}
	return newClient(t, net, key, append([]func(*quorum.Config){route}, edits...)...), m
}

// keepPrepares makes p keep a copy of every Prepare request it forwards.
func (p *mitm) keepPrepares() *keptPrepares {
	k := &keptPrepares{byTxID: map[string]*lsspb.PrepareRequest{}}
	p.watch(func(method string, req proto.Message) {
		if method != "Prepare" {
			return
		}
		r := proto.Clone(req).(*lsspb.PrepareRequest)
		k.mu.Lock()
		defer k.mu.Unlock()
		k.byTxID[string(r.GetTxid())] = r
		k.last = r
	})
	return k
}

// latest is the last Prepare kept, nil if none.
func (k *keptPrepares) latest() *lsspb.PrepareRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.last
}

// transactions is how many transactions' Prepares were kept.
func (k *keptPrepares) transactions() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.byTxID)
}
