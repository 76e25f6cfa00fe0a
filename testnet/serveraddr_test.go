package testnet

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lssquorum/lss/proto/lsspb"
)

// TestServerAddrBypassesTheProxy checks that ServerAddr reaches the server
// directly: a latency set on the proxy does not delay it, and it is empty while
// the server is stopped.
func TestServerAddrBypassesTheProxy(t *testing.T) {
	t.Parallel()
	p := startNet(t, Config{N: 1}).Providers()[0]
	direct := p.ServerAddr()
	if direct == "" || direct == p.Addr() {
		t.Fatalf("ServerAddr %q, proxy %q", direct, p.Addr())
	}
	p.SetLatency(time.Second)
	conn, err := grpc.NewClient(direct, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Well under the proxy's latency: only a call that skips the proxy makes it.
	reply, err := lsspb.NewLightningStorageClient(conn).Info(ctxT(t, 500*time.Millisecond), &lsspb.InfoRequest{})
	if err != nil || !bytes.Equal(reply.GetServerId(), p.ServerID()) {
		t.Fatalf("Info at ServerAddr: %v, server_id %x; want %x", err, reply.GetServerId(), p.ServerID())
	}
	if err := p.Stop(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := p.ServerAddr(); got != "" {
		t.Fatalf("ServerAddr of a stopped server = %q", got)
	}
}
