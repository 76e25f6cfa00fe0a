package lssd

import (
	"bytes"
	"context"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// fuzzMethod is one RPC as the fuzz target drives it: a fresh request message,
// how a well-behaved client would sign it, and the handler.
type fuzzMethod struct {
	name   string
	new    func() proto.Message
	sign   func(secret []byte, m proto.Message)
	handle func(*Server, context.Context, proto.Message) (proto.Message, error)
}

var fuzzMethods = []fuzzMethod{
	{"Put", func() proto.Message { return &lsspb.PutRequest{} },
		func(s []byte, m proto.Message) { r := m.(*lsspb.PutRequest); r.Hmac = wire.PutRequestHMAC(s, r.Kvs) },
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.Put(ctx, m.(*lsspb.PutRequest))
		}},
	{"Get", func() proto.Message { return &lsspb.GetRequest{} }, nil,
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.Get(ctx, m.(*lsspb.GetRequest))
		}},
	{"BoundGet", func() proto.Message { return &lsspb.GetRequest{} }, nil,
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.BoundGet(ctx, m.(*lsspb.GetRequest))
		}},
	{"Restore", func() proto.Message { return &lsspb.RestoreRequest{} },
		func(s []byte, m proto.Message) {
			r := m.(*lsspb.RestoreRequest)
			r.Hmac = wire.RestoreRequestMAC(s, r.Kvs)
		},
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.Restore(ctx, m.(*lsspb.RestoreRequest))
		}},
	{"Prepare", func() proto.Message { return &lsspb.PrepareRequest{} },
		func(s []byte, m proto.Message) {
			r := m.(*lsspb.PrepareRequest)
			r.Hmac = wire.PrepareRequestMAC(s, r.Txid, r.Kvs, r.Participants, r.WriteQuorum, r.Seal)
		},
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.Prepare(ctx, m.(*lsspb.PrepareRequest))
		}},
	{"Commit", func() proto.Message { return &lsspb.TxRequest{} },
		func(s []byte, m proto.Message) {
			r := m.(*lsspb.TxRequest)
			r.Hmac = wire.TxRequestMAC(s, wire.CommitDomains[0], r.Txid, r.Proofs)
		},
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.Commit(ctx, m.(*lsspb.TxRequest))
		}},
	{"Fence", func() proto.Message { return &lsspb.TxRequest{} },
		func(s []byte, m proto.Message) {
			r := m.(*lsspb.TxRequest)
			r.Hmac = wire.TxRequestMAC(s, wire.FenceDomains[0], r.Txid, r.Proofs)
		},
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.Fence(ctx, m.(*lsspb.TxRequest))
		}},
	{"Abort", func() proto.Message { return &lsspb.TxRequest{} },
		func(s []byte, m proto.Message) {
			r := m.(*lsspb.TxRequest)
			r.Hmac = wire.TxRequestMAC(s, wire.AbortDomains[0], r.Txid, r.Proofs)
		},
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.Abort(ctx, m.(*lsspb.TxRequest))
		}},
	{"Status", func() proto.Message { return &lsspb.StatusRequest{} }, nil,
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.Status(ctx, m.(*lsspb.StatusRequest))
		}},
	{"SetExtensionOnly", func() proto.Message { return &lsspb.ExtensionOnlyRequest{} },
		func(s []byte, m proto.Message) {
			r := m.(*lsspb.ExtensionOnlyRequest)
			r.Hmac = wire.ExtensionOnlyRequestMAC(s, r.Nonce)
		},
		func(s *Server, ctx context.Context, m proto.Message) (proto.Message, error) {
			return s.SetExtensionOnly(ctx, m.(*lsspb.ExtensionOnlyRequest))
		}},
}

// fuzzKeys are the server's and one client's keys, fixed so that the seed corpus
// can carry that client's auth.
var (
	fuzzServerKey = secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x22}, 32))
	fuzzClientKey = secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x11}, 32))
)

func fuzzAuth() (*lsspb.Auth, []byte) {
	secret := wire.SharedSecret(fuzzClientKey, fuzzServerKey.PubKey())
	token := wire.Token(secret)
	return &lsspb.Auth{ClientId: wire.PublicID(fuzzClientKey), Token: token[:]}, secret[:]
}

// FuzzRequest sends arbitrary bytes as the request of each RPC through the decoding
// the daemon uses (strictCodec and its interceptor) to the handler, over a memory
// store. With sign set, the request is given the fuzz client's auth and a correct
// MAC, so the fuzzer reaches the checks past authentication and the store. It
// requires: no panic; only the statuses the protocol allows (never INTERNAL or
// UNKNOWN); an undecodable request refused as INVALID_ARGUMENT; an unauthenticated
// request writes nothing; a Put that succeeds is stored exactly.
func FuzzRequest(f *testing.F) {
	auth, _ := fuzzAuth()
	seed := func(method int, m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(method), b, true)
		f.Add(uint8(method), b, false)
	}
	txid := bytes.Repeat([]byte{7}, 16)
	kvs := []*lsspb.KeyValue{kv("a", 0, "x"), kv("b", 0, "")}
	seed(0, &lsspb.PutRequest{Auth: auth, Kvs: kvs})
	seed(1, &lsspb.GetRequest{Auth: auth, KeyPrefix: "a", Nonce: []byte{1}})
	seed(2, &lsspb.GetRequest{Auth: auth})
	seed(3, &lsspb.RestoreRequest{Auth: auth, Kvs: kvs})
	seed(4, &lsspb.PrepareRequest{Auth: auth, Txid: txid, Kvs: kvs})
	seed(5, &lsspb.TxRequest{Auth: auth, Txid: txid})
	seed(6, &lsspb.TxRequest{Auth: auth, Txid: txid})
	seed(7, &lsspb.TxRequest{Auth: auth, Txid: txid})
	seed(8, &lsspb.StatusRequest{Auth: auth, Nonce: []byte("n")})
	seed(9, &lsspb.ExtensionOnlyRequest{Auth: auth, Nonce: []byte("n")})
	f.Add(uint8(0), []byte{0xff, 0xff, 0xff}, false)
	f.Add(uint8(0), []byte{0x12, 0x03, 0x0a, 0x01, 0xff}, true)

	f.Fuzz(func(t *testing.T, method uint8, body []byte, sign bool) {
		fm := fuzzMethods[int(method)%len(fuzzMethods)]
		st := store.New(newMemory(t), store.Options{})
		srv := NewServer(st, fuzzServerKey, ServerConfig{Limits: Limits{MaxKeysPerPut: 16, MaxKeyLength: 64, MaxValueSize: 256}})
		codec := newStrictCodec()
		ctx := context.Background()

		req := fm.new()
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(body)}, req); err != nil {
			t.Fatalf("strictCodec.Unmarshal returned %v; it must keep decoding errors for the interceptor", err)
		}
		_, undecodable := codec.bad.Load(req)
		if undecodable && proto.Unmarshal(body, fm.new()) == nil {
			t.Fatal("codec refused bytes proto.Unmarshal accepts")
		}
		signed := false
		if sign && !undecodable {
			a, secret := fuzzAuth()
			if r, ok := req.(interface{ GetAuth() *lsspb.Auth }); ok && r.GetAuth() != nil {
				*r.GetAuth() = lsspb.Auth{ClientId: a.ClientId, Token: a.Token}
				if fm.sign != nil {
					fm.sign(secret, req)
				}
				signed = true
			}
		}
		var reply proto.Message
		_, err := codec.interceptor()(ctx, req, &grpc.UnaryServerInfo{FullMethod: fm.name},
			func(ctx context.Context, r any) (any, error) {
				var err error
				reply, err = fm.handle(srv, ctx, r.(proto.Message))
				return reply, err
			})

		switch code := status.Code(err); code {
		case codes.OK, codes.InvalidArgument, codes.Unauthenticated, codes.NotFound, codes.FailedPrecondition:
		default:
			t.Fatalf("%s answered %v: %v", fm.name, code, err)
		}
		if undecodable && status.Code(err) != codes.InvalidArgument {
			t.Fatalf("undecodable %s answered %v, want INVALID_ARGUMENT", fm.name, err)
		}
		client := wire.PublicID(fuzzClientKey)
		stored, gerr := st.Get(ctx, client, "")
		if gerr != nil {
			t.Fatal(gerr)
		}
		recs, terr := st.Transactions(ctx, client)
		if terr != nil {
			t.Fatal(terr)
		}
		if !signed && (len(stored) > 0 || len(recs) > 0) {
			t.Fatalf("unauthenticated %s wrote %v, %v", fm.name, stored, recs)
		}
		if put, ok := reply.(*lsspb.PutReply); ok && put.GetSuccess() {
			want := req.(*lsspb.PutRequest).Kvs
			if len(stored) != len(want) {
				t.Fatalf("put of %d kvs succeeded; store holds %d", len(want), len(stored))
			}
			for i, kv := range want {
				if stored[i].Key != kv.Key || stored[i].Version != kv.Version || !bytes.Equal(stored[i].Value, kv.Value) {
					t.Fatalf("stored %v after put of %v", stored[i], kv)
				}
			}
		}
	})
}
