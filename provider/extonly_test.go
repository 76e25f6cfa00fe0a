package provider

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestSetExtensionOnly(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	c := dialT(t, d.Addr(), d.ServerID(), newKey(t), false)
	if err := c.Put(ctxT(t), []KV{{Key: "k", Version: 0, Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetExtensionOnly(ctxT(t)); err != nil {
		t.Fatalf("SetExtensionOnly: %v", err)
	}
	// Reads go through BoundGet and still work; the base Put is refused.
	es, err := c.Get(ctxT(t), "")
	if err != nil {
		t.Fatalf("Get after the switch: %v", err)
	}
	checkEntries(t, es, KV{Key: "k", Version: 0, Value: []byte("v")})
	err = c.Put(ctxT(t), []KV{{Key: "k", Version: 1, Value: []byte("w")}})
	if err == nil || status.Code(unwrapStatus(err)) != codes.FailedPrecondition {
		t.Errorf("base Put after the switch: %v, want FAILED_PRECONDITION", err)
	}

	stock := startServer(t, true)
	sc := dialT(t, stock.Addr(), stock.ServerID(), newKey(t), false)
	wantProviderError(t, sc.SetExtensionOnly(ctxT(t)), "set extension-only", ErrNotSupported)
}

// unwrapStatus finds the gRPC status in err's chain.
func unwrapStatus(err error) error {
	for e := err; e != nil; {
		if _, ok := status.FromError(e); ok {
			return e
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		e = u.Unwrap()
	}
	return err
}
