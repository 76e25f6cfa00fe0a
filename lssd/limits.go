package lssd

import (
	"fmt"

	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Limits bound what one request may carry. A zero field takes its default.
type Limits struct {
	// MaxKeysPerPut bounds the key-values of one Put, Restore or Prepare.
	MaxKeysPerPut int
	// MaxKeyLength bounds a key, in bytes.
	MaxKeyLength int
	// MaxValueSize bounds a stored value (value HMAC included), in bytes.
	MaxValueSize int
	// MaxMessageSize bounds a whole request message, in bytes. gRPC enforces it
	// before the request is decoded, answering RESOURCE_EXHAUSTED.
	MaxMessageSize int
}

// Default limits: generous for a signer's state, small enough that one request
// cannot exhaust the server.
const (
	DefaultMaxKeysPerPut  = 1000
	DefaultMaxKeyLength   = 1024
	DefaultMaxValueSize   = 1 << 20
	DefaultMaxMessageSize = 16 << 20
)

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxKeysPerPut:  DefaultMaxKeysPerPut,
		MaxKeyLength:   DefaultMaxKeyLength,
		MaxValueSize:   DefaultMaxValueSize,
		MaxMessageSize: DefaultMaxMessageSize,
	}
}

// withDefaults fills zero fields with their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxKeysPerPut == 0 {
		l.MaxKeysPerPut = d.MaxKeysPerPut
	}
	if l.MaxKeyLength == 0 {
		l.MaxKeyLength = d.MaxKeyLength
	}
	if l.MaxValueSize == 0 {
		l.MaxValueSize = d.MaxValueSize
	}
	if l.MaxMessageSize == 0 {
		l.MaxMessageSize = d.MaxMessageSize
	}
	return l
}

// validate refuses negative limits, which would refuse every request.
func (l Limits) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"max keys per put", l.MaxKeysPerPut},
		{"max key length", l.MaxKeyLength},
		{"max value size", l.MaxValueSize},
		{"max message size", l.MaxMessageSize},
	} {
		if f.v < 0 {
			return fmt.Errorf("lssd: %s is %d, must not be negative", f.name, f.v)
		}
	}
	return nil
}

// checkKVs returns an INVALID_ARGUMENT status naming the first limit kvs exceed.
func (l Limits) checkKVs(kvs []*lsspb.KeyValue) error {
	if len(kvs) > l.MaxKeysPerPut {
		return status.Errorf(codes.InvalidArgument,
			"request has %d keys, over the limit of %d keys per request (max keys per put)", len(kvs), l.MaxKeysPerPut)
	}
	for _, kv := range kvs {
		if n := len(kv.GetKey()); n > l.MaxKeyLength {
			return status.Errorf(codes.InvalidArgument,
				"key %.32q... is %d bytes, over the max key length of %d bytes", kv.GetKey(), n, l.MaxKeyLength)
		}
		if n := len(kv.GetValue()); n > l.MaxValueSize {
			return status.Errorf(codes.InvalidArgument,
				"value of key %q is %d bytes, over the max value size of %d bytes", kv.GetKey(), n, l.MaxValueSize)
		}
	}
	return nil
}
