package lssd

import (
	"context"
	"log/slog"

	"github.com/lssquorum/lss/internal/buildinfo"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// Version is this server's version, reported by Info as "lssd " + Version(): the
// module version from the binary's build information, the same that
// `lssd --version` prints.
func Version() string { return buildinfo.Version() }

// ServerConfig tunes a Server.
type ServerConfig struct {
	// Limits bound each request; zero fields take their defaults.
	Limits Limits
	// SecretCacheSize bounds the per-client shared-secret cache;
	// DefaultSecretCacheSize if zero.
	SecretCacheSize int
	// Logger receives the server's logs; nothing is logged if nil.
	Logger *slog.Logger
	// OnTxClient, if set, is called with the client_id of every authenticated
	// transaction request (Prepare, Commit, Fence, Abort, Status), so that the caller can
	// prune that client's decided records later.
	OnTxClient func(clientID []byte)
}

// Server implements lsspb.LightningStorageServer, base protocol and extension, over
// a store.Store. Use BaseOnly to serve the base protocol alone.
type Server struct {
	lsspb.UnimplementedLightningStorageServer

	store      *store.Store
	id         []byte
	auth       *authenticator
	limits     Limits
	log        *slog.Logger
	onTxClient func([]byte)
	// extOnly remembers clients found extension-only (see extonly.go).
	extOnly *lru[string, struct{}]
}

// NewServer returns a Server for st whose identity is key.
func NewServer(st *store.Store, key *secp256k1.PrivateKey, cfg ServerConfig) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	onTx := cfg.OnTxClient
	if onTx == nil {
		onTx = func([]byte) {}
	}
	return &Server{
		store:      st,
		id:         wire.PublicID(key),
		auth:       newAuthenticator(key, cfg.SecretCacheSize),
		limits:     cfg.Limits.withDefaults(),
		log:        log,
		onTxClient: onTx,
		extOnly:    newLRU[string, struct{}](DefaultSecretCacheSize),
	}
}

// ServerID is the server's 33-byte compressed public key.
func (s *Server) ServerID() []byte { return append([]byte(nil), s.id...) }

// Ping echoes the message.
func (s *Server) Ping(_ context.Context, req *lsspb.PingRequest) (*lsspb.PingReply, error) {
	return &lsspb.PingReply{Message: req.GetMessage()}, nil
}

// Info reports the version and the server_id.
func (s *Server) Info(context.Context, *lsspb.InfoRequest) (*lsspb.InfoReply, error) {
	return &lsspb.InfoReply{Version: "lssd " + Version(), ServerId: s.ServerID()}, nil
}

// BaseOnly returns s restricted to the base protocol (Ping, Info, Put, Get): every
// extension RPC answers UNIMPLEMENTED, as a stock Rust server does.
func BaseOnly(s *Server) lsspb.LightningStorageServer { return baseOnly{s: s} }

type baseOnly struct {
	lsspb.UnimplementedLightningStorageServer
	s *Server
}

func (b baseOnly) Ping(ctx context.Context, req *lsspb.PingRequest) (*lsspb.PingReply, error) {
	return b.s.Ping(ctx, req)
}

func (b baseOnly) Info(ctx context.Context, req *lsspb.InfoRequest) (*lsspb.InfoReply, error) {
	return b.s.Info(ctx, req)
}

func (b baseOnly) Put(ctx context.Context, req *lsspb.PutRequest) (*lsspb.PutReply, error) {
	return b.s.Put(ctx, req)
}

func (b baseOnly) Get(ctx context.Context, req *lsspb.GetRequest) (*lsspb.GetReply, error) {
	return b.s.Get(ctx, req)
}
