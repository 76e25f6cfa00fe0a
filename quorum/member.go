package quorum

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lssquorum/lss/provider"
)

// member is one provider of the quorum and its connection, dialed lazily. A
// provider that is down when the client starts, or whose pinned server_id does
// not match, is simply retried on the next call.
type member struct {
	name string
	// stock is pinned configuration: the provider speaks only the base
	// protocol and takes no part in transactions.
	stock bool
	opts  provider.Options
	// lock is a one-slot semaphore rather than a mutex so that a caller waiting
	// for another caller's dial gives up at its own deadline.
	lock chan struct{}
	cl   *provider.Client
	// retired are connections noteErr dropped, each closed once the calls in
	// flight on it had their deadline (retireAfter), or at close.
	retired map[*provider.Client]*time.Timer
	// closed is set by close: a call racing with Client.Close must not dial a
	// connection nobody would close.
	closed bool
	// settling is a one-slot semaphore: one caller at a time settles this
	// provider's pending transactions, in order.
	settling chan struct{}
	// writes orders the writes of each key sent to this provider.
	writes keyOrder
	// confirmed is the highest version per key this provider confirmed holding
	// (acknowledged, restored, or returned); a later reply below it is a
	// rollback of this provider.
	confirmed watermark
}

func newMember(name string, p ProviderConfig, cfg Config) *member {
	return &member{
		name:  name,
		stock: p.Stock,
		opts: provider.Options{
			Addr:       p.Addr,
			Name:       name,
			ServerID:   p.ServerID,
			TLS:        p.TLS,
			ClientKey:  cfg.ClientKey,
			HMACSecret: cfg.HMACSecret,
			// The call's context bounds the dial; this only caps it.
			DialTimeout: cfg.Timeout,
			// Pinned, never learned: an UNIMPLEMENTED answer to BoundGet from
			// an extension provider is a failure, not a reason to fall back to
			// the base Get, whose HMAC does not cover the prefix.
			Extension: !p.Stock,
			// Value MAC v2 bound to the txid, commit proofs checked on every
			// read; stock providers get them in a carrier.
			Format: provider.FormatQuorum,
		},
		lock:     make(chan struct{}, 1),
		settling: make(chan struct{}, 1),
	}
}

// client returns the provider's connection, dialing it if there is none yet.
// The dial (connect, Info, server_id check) is bounded by ctx.
func (m *member) client(ctx context.Context) (*provider.Client, error) {
	select {
	case m.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, named(m.name, "dial", ctx.Err())
	}
	defer func() { <-m.lock }()
	if m.closed {
		return nil, named(m.name, "dial", ErrClosed)
	}
	if m.cl != nil {
		return m.cl, nil
	}
	cl, err := provider.Dial(ctx, m.opts)
	if err != nil {
		return nil, named(m.name, "dial", err)
	}
	m.cl = cl
	return cl, nil
}

// close closes the connection if there is one and refuses to dial again. Calls
// still in flight on the connection fail.
func (m *member) close() error {
	m.lock <- struct{}{}
	defer func() { <-m.lock }()
	m.closed = true
	for cl, timer := range m.retired {
		timer.Stop()
		_ = cl.Close()
	}
	m.retired = nil
	if m.cl == nil {
		return nil
	}
	err := m.cl.Close()
	m.cl = nil
	return err
}

// current returns the provider's connection if one is established, without
// dialing; nil if there is none or ctx ends while another caller is dialing.
func (m *member) current(ctx context.Context) *provider.Client {
	select {
	case m.lock <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	defer func() { <-m.lock }()
	return m.cl
}

// noteErr drops the connection cl after a call on it failed with gRPC's
// Unavailable, so the next call dials afresh. A gRPC connection whose server went
// away retries with an exponential backoff of up to minutes and fails calls at
// once meanwhile; a provider that restarts must instead be usable on the very
// next call. The dropped connection is closed only once the calls in flight on
// it had their deadline: Unavailable may be one call's answer (a status code the
// network can give for any one method) on a connection other calls are using
// well, and closing it at once would fail them all. Deadline errors keep the
// connection: a slow or blackholed provider may still answer on it.
func (m *member) noteErr(cl *provider.Client, err error) {
	if cl == nil || status.Code(err) != codes.Unavailable {
		return
	}
	m.lock <- struct{}{}
	defer func() { <-m.lock }()
	if m.cl != cl {
		return
	}
	m.cl = nil
	if m.retired == nil {
		m.retired = map[*provider.Client]*time.Timer{}
	}
	m.retired[cl] = time.AfterFunc(m.retireAfter(), func() {
		m.lock <- struct{}{}
		_, ok := m.retired[cl]
		delete(m.retired, cl)
		<-m.lock
		if ok { // not closed by close meanwhile
			_ = cl.Close()
		}
	})
}

// retireAfter is how long a dropped connection stays open: the calls in flight
// on it run under the call timeout (which also caps the dial).
func (m *member) retireAfter() time.Duration { return m.opts.DialTimeout + time.Second }
