package lssd

import (
	"context"
	"net"
	"net/netip"

	"github.com/lssquorum/lss/proto/lsspb"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// maxRatePeers bounds the per-peer buckets kept; the least recently active peer's
// bucket is dropped first.
const maxRatePeers = 10_000

// newClientLimiter bounds, per peer address, how many requests with a client_id the
// server has not authenticated recently it takes per second. Each such request
// costs an ECDH (and would otherwise let a peer push real clients out of the
// secret cache); requests of cached clients are not counted. IPv6 peers are
// counted per /64, since one host usually holds a whole /64.
type newClientLimiter struct {
	auth  *authenticator
	rate  rate.Limit
	burst int
	peers *lru[netip.Prefix, *rate.Limiter]
}

func newNewClientLimiter(auth *authenticator, perSecond float64, burst int) *newClientLimiter {
	return &newClientLimiter{auth: auth, rate: rate.Limit(perSecond), burst: burst,
		peers: newLRU[netip.Prefix, *rate.Limiter](maxRatePeers)}
}

// interceptor refuses, with RESOURCE_EXHAUSTED, a request with an unknown client_id
// from a peer over its rate. It runs before the handler, so a refused request costs
// no ECDH and touches nothing.
func (l *newClientLimiter) interceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		r, ok := req.(interface{ GetAuth() *lsspb.Auth })
		if !ok || r.GetAuth() == nil || l.auth.cached(r.GetAuth().GetClientId()) {
			return handler(ctx, req)
		}
		if !l.allow(peerPrefix(ctx)) {
			return nil, status.Errorf(codes.ResourceExhausted,
				"too many new client_ids from this address (limit %g per second, burst %d); retry later", float64(l.rate), l.burst)
		}
		return handler(ctx, req)
	}
}

func (l *newClientLimiter) allow(p netip.Prefix) bool {
	return l.peers.getOrAdd(p, func() *rate.Limiter { return rate.NewLimiter(l.rate, l.burst) }).Allow()
}

// peerPrefix is the address the rate is counted against: the peer's IPv4 address,
// its IPv6 /64, or the zero prefix for peers without an IP address (all such peers
// share one bucket).
func peerPrefix(ctx context.Context) netip.Prefix {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return netip.Prefix{}
	}
	tcp, ok := p.Addr.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	pre, _ := ip.Prefix(bits)
	return pre
}
