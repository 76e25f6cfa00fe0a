package quorum

import (
	"context"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/provider"
)

// Input every provider would refuse is refused before any provider is asked
// (these providers do not even exist), with an error naming the problem.
func TestPutRefusesBadInput(t *testing.T) {
	t.Parallel()
	key, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(context.Background(), Config{
		Providers: []ProviderConfig{{Addr: "127.0.0.1:1"}, {Addr: "127.0.0.1:2"}, {Addr: "127.0.0.1:3"}},
		ClientKey: key,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		kvs  []provider.KV
		want string
	}{
		{nil, "no key-values"},
		{[]provider.KV{{Key: "a"}, {Key: "b"}, {Key: "a", Version: 1}}, `key "a" appears twice`},
		{[]provider.KV{{Key: "a", Version: -1}}, `key "a" has negative version -1`},
	}
	for _, tt := range tests {
		res, err := c.Put(context.Background(), tt.kvs)
		if err == nil || !strings.Contains(err.Error(), tt.want) || res != nil {
			t.Errorf("Put(%v) = %v, %v; want an error saying %q", tt.kvs, res, err, tt.want)
		}
	}
	if wm := c.Watermark(); len(wm.Keys) != 0 {
		t.Errorf("refused puts moved the watermark: %v", wm)
	}
}
