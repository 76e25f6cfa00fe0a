package lssd

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// limitListener closes every accepted connection beyond max open ones at once,
// rather than leaving it queued (as netutil.LimitListener does) where the client
// would hang until its own timeout.
type limitListener struct {
	net.Listener
	slots   chan struct{}
	log     *slog.Logger
	refused atomic.Int64
}

func newLimitListener(l net.Listener, max int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, max), log: log}
}

// Accept returns the next connection there is room for.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			c.Close()
			// Log the first refusal and then every thousandth, so a flood cannot
			// fill the log.
			if n := l.refused.Add(1); n%1000 == 1 {
				l.log.Warn("connection limit reached; closing new connections", "max_connections", cap(l.slots),
					"peer", c.RemoteAddr().String(), "refused_so_far", n)
			}
		}
	}
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
