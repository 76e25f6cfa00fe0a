package provider

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lssquorum/lss/internal/endpoint"
	"github.com/lssquorum/lss/internal/tlsfiles"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Client talks to one LSS server. It is safe for concurrent use.
type Client struct {
	name     string
	conn     *grpc.ClientConn
	rpc      lsspb.LightningStorageClient
	serverID []byte
	// secret is the ECDH shared secret: it keys every server and request HMAC.
	secret     []byte
	auth       *lsspb.Auth
	hmacSecret []byte
	// cert holds the keys derived from hmacSecret: v2 value MAC, commit
	// proofs, prepare seals.
	cert    *wire.Certifier
	encrypt bool
	format  Format
	// ext pins the server as an extension server (Options.Extension).
	ext bool
	// pageItems and maxPages shape paged BoundGet and Status (Options).
	pageItems int32
	maxPages  int
	// restarts bounds the restarts of a paged Get whose generation changed.
	restarts int
}

// Dial connects to the server of o, fetches its server_id with Info, checks it
// against the pinned one and derives the shared secret.
func Dial(ctx context.Context, o Options) (*Client, error) {
	name := o.Name
	if name == "" {
		name = o.Addr
	}
	c := &Client{name: name, encrypt: o.Encrypt, format: o.Format, ext: o.Extension || o.RequireExtension,
		pageItems: o.PageItems, maxPages: o.MaxPages, restarts: o.MaxListingRestarts}
	if c.pageItems <= 0 {
		c.pageItems = DefaultPageItems
	}
	if c.maxPages <= 0 {
		c.maxPages = DefaultMaxPages
	}
	switch {
	case c.restarts == 0:
		c.restarts = DefaultMaxListingRestarts
	case c.restarts < 0:
		c.restarts = 0
	}
	conn, err := o.connect()
	if err != nil {
		return nil, c.fail("dial", err)
	}
	c.conn, c.rpc = conn, lsspb.NewLightningStorageClient(conn)
	if err := c.handshake(ctx, o); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// connect validates o and creates the (lazy) gRPC connection.
func (o Options) connect() (*grpc.ClientConn, error) {
	if o.ClientKey == nil {
		return nil, errors.New("no client key")
	}
	if o.HMACSecret != nil && len(o.HMACSecret) != wire.SecretSize {
		return nil, fmt.Errorf("HMAC secret is %d bytes, want %d", len(o.HMACSecret), wire.SecretSize)
	}
	switch {
	case o.Format != FormatRust && o.Format != FormatQuorum:
		return nil, fmt.Errorf("unknown value format %v", o.Format)
	case o.Format == FormatQuorum && o.Encrypt:
		// The quorum format's payload is whatever the caller gives it (the
		// quorum client's own envelope); the Rust cipher has no place in it.
		return nil, errors.New("Encrypt is the Rust format's cipher; it cannot be combined with FormatQuorum")
	}
	if o.ServerID != nil {
		if _, err := wire.ParsePublicKey(o.ServerID); err != nil {
			return nil, fmt.Errorf("pinned server_id: %w", err)
		}
	}
	ep, err := endpoint.Parse(o.Addr)
	if err != nil {
		return nil, err
	}
	tlsConfig := o.TLS
	switch {
	case ep.TLS && tlsConfig == nil:
		tlsConfig = &tls.Config{ServerName: ep.Host, MinVersion: tlsfiles.MinVersion}
	case !ep.TLS && tlsConfig != nil && strings.HasPrefix(o.Addr, "http://"):
		return nil, fmt.Errorf("address %q is plaintext http:// but a TLS configuration is set", o.Addr)
	}
	creds := insecure.NewCredentials()
	if tlsConfig != nil {
		creds = credentials.NewTLS(tlsConfig)
	}
	maxMsg := o.MaxMessageSize
	if maxMsg <= 0 {
		maxMsg = DefaultMaxMessageSize
	}
	return grpc.NewClient(ep.HostPort,
		grpc.WithTransportCredentials(creds),
		// gRPC's default reconnect backoff grows to two minutes, so a provider that
		// restarts would look down long after it is back. A quorum needs it back
		// within a couple of seconds.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: MaxReconnectDelay},
			MinConnectTimeout: 2 * time.Second,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)),
	)
}

// handshake runs Info, pins or checks the server_id and derives the secrets.
func (c *Client) handshake(ctx context.Context, o Options) error {
	timeout := o.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reply, err := c.rpc.Info(ctx, &lsspb.InfoRequest{})
	if err != nil {
		return c.fail("dial", rpcError(ctx, err, nil))
	}
	id := reply.GetServerId()
	if o.ServerID != nil && !bytes.Equal(id, o.ServerID) {
		return c.fail("dial", fmt.Errorf("%w: server says %x, pinned %x", ErrServerIDMismatch, id, o.ServerID))
	}
	serverKey, err := wire.ParsePublicKey(id)
	if err != nil {
		return c.fail("dial", fmt.Errorf("%w: server_id: %w", ErrInvalidReply, err))
	}
	secret := wire.SharedSecret(o.ClientKey, serverKey)
	token := wire.Token(secret)
	c.serverID = id
	c.secret = secret[:]
	c.auth = &lsspb.Auth{ClientId: wire.PublicID(o.ClientKey), Token: token[:]}
	if o.HMACSecret != nil {
		c.hmacSecret = bytes.Clone(o.HMACSecret)
	} else {
		s := wire.CLIHMACSecret(o.ClientKey)
		c.hmacSecret = s[:]
	}
	c.cert = wire.NewCertifier(c.hmacSecret)
	return nil
}

// Name is the provider's name, as used in errors.
func (c *Client) Name() string { return c.name }

// ServerID is the server's verified 33-byte server_id.
func (c *Client) ServerID() []byte { return bytes.Clone(c.serverID) }

// ClientID is this client's 33-byte client_id, the namespace it reads and writes.
func (c *Client) ClientID() []byte { return bytes.Clone(c.auth.GetClientId()) }

// Close closes the connection. In-flight calls fail with ErrUnavailable.
func (c *Client) Close() error { return c.conn.Close() }

// Ping sends msg and returns the server's answer (the Rust server echoes it).
func (c *Client) Ping(ctx context.Context, msg string) (string, error) {
	reply, err := c.rpc.Ping(ctx, &lsspb.PingRequest{Message: msg})
	if err != nil {
		return "", c.fail("ping", rpcError(ctx, err, nil))
	}
	return reply.GetMessage(), nil
}

// Info returns the server's version string and server_id. The server_id is as
// the server claims it; Dial is what checks it against the pinned one.
func (c *Client) Info(ctx context.Context) (version string, serverID []byte, err error) {
	reply, err := c.rpc.Info(ctx, &lsspb.InfoRequest{})
	if err != nil {
		return "", nil, c.fail("info", rpcError(ctx, err, nil))
	}
	return reply.GetVersion(), reply.GetServerId(), nil
}
