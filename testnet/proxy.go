package testnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy tuning. A direction holds at most queueChunks chunks of at most chunkSize
// bytes, so a slow or paused direction buffers a bounded amount and then stops
// reading, which pushes back on the sender through TCP.
const (
	chunkSize   = 32 << 10
	queueChunks = 64
	// dialTimeout bounds the dial to the server behind the proxy; on loopback a dial
	// either succeeds or is refused at once, so this only matters if something is
	// badly wrong.
	dialTimeout = 2 * time.Second
	// acceptBackoff spaces out retries after an unexpected Accept error.
	acceptBackoff = 10 * time.Millisecond
)

// proxy forwards TCP connections from a stable loopback address to whatever address
// the provider's server currently listens on, and is where network faults are
// injected. Every goroutine it starts is tracked by wg and ends on close.
type proxy struct {
	ln      net.Listener
	logger  *slog.Logger
	latency atomic.Int64 // a time.Duration added to every forwarded chunk

	// ctx is cancelled on close so that a dial in progress gives up.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	backend string // the server's address; "" while it is down
	cut     bool   // reset every new connection
	// open is closed while forwarding is allowed. While the provider is blackholed
	// it is an unclosed channel that Heal closes, releasing every waiter at once.
	open       chan struct{}
	blackholed bool
	links      map[*link]struct{}
	closed     bool
}

// link is one client connection and, once dialed, its server connection.
type link struct {
	client net.Conn
	done   chan struct{} // closed when the link is torn down
	once   sync.Once

	mu      sync.Mutex
	backend net.Conn
}

// chunk is one read from one side, stamped with when it was read so that latency
// is added once per chunk while the order is kept.
type chunk struct {
	at   time.Time
	data []byte
}

// newProxy listens on a random loopback port and starts accepting.
func newProxy(logger *slog.Logger) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testnet: proxy listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	open := make(chan struct{})
	close(open)
	p := &proxy{
		ln:     ln,
		logger: logger,
		ctx:    ctx,
		cancel: cancel,
		open:   open,
		links:  make(map[*link]struct{}),
	}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// addr is the proxy's stable address.
func (p *proxy) addr() string { return p.ln.Addr().String() }

// setBackend points new connections at addr; "" makes them fail at once.
func (p *proxy) setBackend(addr string) {
	p.mu.Lock()
	p.backend = addr
	p.mu.Unlock()
}

// setLatency sets the delay added to each forwarded chunk, in both directions.
func (p *proxy) setLatency(d time.Duration) {
	if d < 0 {
		d = 0
	}
	p.latency.Store(int64(d))
}

// setCut drops every connection and resets new ones until heal.
func (p *proxy) setCut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
	p.dropAll()
}

// blackhole stops forwarding on every connection, current and new, without closing
// any, until heal: the provider never answers.
func (p *proxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.blackholed {
		p.blackholed = true
		p.open = make(chan struct{})
	}
}

// isBlackholed reports whether blackhole is in force.
func (p *proxy) isBlackholed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blackholed
}

// heal undoes setCut and blackhole. Connections held by a blackhole resume where
// they stopped, so no byte is lost or reordered.
func (p *proxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	if p.blackholed {
		p.blackholed = false
		close(p.open)
	}
}

// dropAll tears down every current connection.
func (p *proxy) dropAll() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

// close stops the proxy and waits for every goroutine it started.
func (p *proxy) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.cancel()
	p.dropAll()
	p.wg.Wait()
	return err
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.logger.Warn("proxy accept", "err", err)
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(acceptBackoff):
			}
			continue
		}
		p.mu.Lock()
		if p.closed || p.cut {
			p.mu.Unlock()
			reset(c)
			continue
		}
		l := &link{client: c, done: make(chan struct{})}
		p.links[l] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.run(l)
	}
}

// run connects one client to the server and forwards both ways until either side
// ends or the link is dropped.
func (p *proxy) run(l *link) {
	defer p.wg.Done()
	defer p.remove(l)
	defer l.close()

	// A blackholed provider accepts but does not dial until healed; the client's
	// bytes wait in the kernel meanwhile.
	if !p.waitOpen(l) {
		return
	}
	p.mu.Lock()
	addr := p.backend
	p.mu.Unlock()
	if addr == "" {
		reset(l.client)
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, dialTimeout)
	var d net.Dialer
	b, err := d.DialContext(ctx, "tcp", addr)
	cancel()
	if err != nil {
		reset(l.client)
		return
	}
	if !l.attach(b) {
		b.Close()
		return
	}

	var dirs sync.WaitGroup
	dirs.Add(2)
	p.wg.Add(2)
	go func() { defer p.wg.Done(); defer dirs.Done(); p.forward(l, l.client, b) }()
	go func() { defer p.wg.Done(); defer dirs.Done(); p.forward(l, b, l.client) }()
	dirs.Wait()
}

// forward copies src to dst in order, each chunk no earlier than the latency after
// it was read and only while the gate is open. When src ends, what was read is
// still delivered, then the whole link is closed.
func (p *proxy) forward(l *link, src, dst net.Conn) {
	q := make(chan chunk, queueChunks)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(q)
		buf := make([]byte, chunkSize)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				c := chunk{at: time.Now(), data: append([]byte(nil), buf[:n]...)}
				select {
				case q <- c:
				case <-l.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	defer l.close()
	for c := range q {
		if !p.waitOpen(l) || !p.delay(l, c.at) {
			return
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// waitOpen waits while the provider is blackholed; false means the link was
// dropped meanwhile.
func (p *proxy) waitOpen(l *link) bool {
	p.mu.Lock()
	open := p.open
	p.mu.Unlock()
	select {
	case <-open:
		return true
	case <-l.done:
		return false
	}
}

// delay waits until the latency has passed since at; false means the link was
// dropped meanwhile.
func (p *proxy) delay(l *link, at time.Time) bool {
	wait := time.Until(at.Add(time.Duration(p.latency.Load())))
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.done:
		return false
	}
}

func (p *proxy) remove(l *link) {
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// attach records the dialed server connection unless the link was dropped first.
func (l *link) attach(b net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return false
	default:
	}
	l.backend = b
	return true
}

// close tears the link down; it unblocks every read and write on it.
func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		l.mu.Lock()
		b := l.backend
		l.mu.Unlock()
		l.client.Close()
		if b != nil {
			b.Close()
		}
	})
}

// reset closes c with a TCP RST rather than a FIN, so the peer fails at once
// instead of waiting for a reply.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
