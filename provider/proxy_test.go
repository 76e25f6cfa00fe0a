package provider

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

	"github.com/lssquorum/lss/proto/lsspb"
)

// tamperProxy is a fake LSS server on 127.0.0.1 that forwards every call to a real
// lssd and lets a test rewrite the request or the reply: a man in the middle, or
// a faulty server.
type tamperProxy struct {
	lsspb.UnimplementedLightningStorageServer
	up   lsspb.LightningStorageClient
	addr string
	// baseOnly makes the extension RPCs answer Unimplemented, like a stock server.
	baseOnly bool

	mu sync.Mutex
	// request and reply, if set, see every request before it is forwarded and
	// every reply before it is returned, by method name.
	request func(method string, req proto.Message)
	reply   func(method string, req, reply proto.Message)
}

// startProxy serves a tamperProxy in front of the server at upstream.
func startProxy(t *testing.T, upstream string, baseOnly bool) *tamperProxy {
	t.Helper()
	conn, err := grpc.NewClient(upstream, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	p := &tamperProxy{up: lsspb.NewLightningStorageClient(conn), baseOnly: baseOnly}
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

// setReply installs the reply hook.
func (p *tamperProxy) setReply(f func(method string, req, reply proto.Message)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reply = f
}

// setRequest installs the request hook.
func (p *tamperProxy) setRequest(f func(method string, req proto.Message)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.request = f
}

// forward runs one call through the hooks.
func forward[Req, Rep proto.Message](p *tamperProxy, method string, ext bool, req Req, call func(Req) (Rep, error)) (Rep, error) {
	var zero Rep
	if ext && p.baseOnly {
		return zero, status.Errorf(codes.Unimplemented, "method %s not implemented", method)
	}
	p.mu.Lock()
	reqHook, replyHook := p.request, p.reply
	p.mu.Unlock()
	if reqHook != nil {
		reqHook(method, req)
	}
	rep, err := call(req)
	if err == nil && replyHook != nil {
		replyHook(method, req, rep)
	}
	return rep, err
}

func (p *tamperProxy) Ping(ctx context.Context, r *lsspb.PingRequest) (*lsspb.PingReply, error) {
	return forward(p, "Ping", false, r, func(r *lsspb.PingRequest) (*lsspb.PingReply, error) { return p.up.Ping(ctx, r) })
}

func (p *tamperProxy) Info(ctx context.Context, r *lsspb.InfoRequest) (*lsspb.InfoReply, error) {
	return forward(p, "Info", false, r, func(r *lsspb.InfoRequest) (*lsspb.InfoReply, error) { return p.up.Info(ctx, r) })
}

func (p *tamperProxy) Put(ctx context.Context, r *lsspb.PutRequest) (*lsspb.PutReply, error) {
	return forward(p, "Put", false, r, func(r *lsspb.PutRequest) (*lsspb.PutReply, error) { return p.up.Put(ctx, r) })
}

func (p *tamperProxy) Get(ctx context.Context, r *lsspb.GetRequest) (*lsspb.GetReply, error) {
	return forward(p, "Get", false, r, func(r *lsspb.GetRequest) (*lsspb.GetReply, error) { return p.up.Get(ctx, r) })
}

func (p *tamperProxy) BoundGet(ctx context.Context, r *lsspb.GetRequest) (*lsspb.GetReply, error) {
	return forward(p, "BoundGet", true, r, func(r *lsspb.GetRequest) (*lsspb.GetReply, error) { return p.up.BoundGet(ctx, r) })
}

func (p *tamperProxy) Restore(ctx context.Context, r *lsspb.RestoreRequest) (*lsspb.RestoreReply, error) {
	return forward(p, "Restore", true, r, func(r *lsspb.RestoreRequest) (*lsspb.RestoreReply, error) { return p.up.Restore(ctx, r) })
}

func (p *tamperProxy) Prepare(ctx context.Context, r *lsspb.PrepareRequest) (*lsspb.TxReply, error) {
	return forward(p, "Prepare", true, r, func(r *lsspb.PrepareRequest) (*lsspb.TxReply, error) { return p.up.Prepare(ctx, r) })
}

func (p *tamperProxy) Commit(ctx context.Context, r *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return forward(p, "Commit", true, r, func(r *lsspb.TxRequest) (*lsspb.TxReply, error) { return p.up.Commit(ctx, r) })
}

func (p *tamperProxy) Fence(ctx context.Context, r *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return forward(p, "Fence", true, r, func(r *lsspb.TxRequest) (*lsspb.TxReply, error) { return p.up.Fence(ctx, r) })
}

func (p *tamperProxy) Abort(ctx context.Context, r *lsspb.TxRequest) (*lsspb.TxReply, error) {
	return forward(p, "Abort", true, r, func(r *lsspb.TxRequest) (*lsspb.TxReply, error) { return p.up.Abort(ctx, r) })
}

func (p *tamperProxy) Status(ctx context.Context, r *lsspb.StatusRequest) (*lsspb.StatusReply, error) {
	return forward(p, "Status", true, r, func(r *lsspb.StatusRequest) (*lsspb.StatusReply, error) { return p.up.Status(ctx, r) })
}
