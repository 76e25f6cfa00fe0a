package lssd

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the codec strictCodec wraps
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// strictCodec is gRPC's protobuf codec, except that a request that does not decode
// (garbage bytes, a string field that is not UTF-8, a truncated field) is answered
// INVALID_ARGUMENT rather than INTERNAL. gRPC turns every codec error into
// INTERNAL, so the codec does not return one: it resets the message, notes it as
// undecodable, and the interceptor refuses it before any handler sees it. Nothing
// is read or written for such a request.
type strictCodec struct {
	encoding.CodecV2
	bad sync.Map // message pointer -> decoding error
}

func newStrictCodec() *strictCodec {
	return &strictCodec{CodecV2: encoding.GetCodecV2("proto")}
}

// Unmarshal decodes data into v; a decoding error is kept for the interceptor.
func (c *strictCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	proto.Reset(m)
	c.bad.Store(v, err)
	return nil
}

// interceptor refuses a request the codec could not decode. It must run first in
// the chain: gRPC decodes a unary request before calling the interceptors, so
// every decoded request passes through here exactly once, and its note is removed.
func (c *strictCodec) interceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err, ok := c.bad.LoadAndDelete(req); ok {
			return nil, status.Errorf(codes.InvalidArgument, "request is not a valid %s: %v", messageName(req), err)
		}
		return handler(ctx, req)
	}
}

func messageName(v any) protoreflect.FullName {
	if m, ok := v.(proto.Message); ok {
		return m.ProtoReflect().Descriptor().FullName()
	}
	return "message"
}
