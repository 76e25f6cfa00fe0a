package provider

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
)

// TestGetKey reads single keys among keys they prefix: from an extension
// server with one page of one entry, whatever it holds under the key; from a
// base-only one through Get. A reply altered on the way is an error, never
// another key's entry.
func TestGetKey(t *testing.T) {
	t.Parallel()
	for _, baseOnly := range []bool{false, true} {
		d := startServer(t, baseOnly)
		key := newKey(t)
		p := startProxy(t, d.Addr(), baseOnly)
		c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Extension: !baseOnly})
		if err := c.Put(ctxT(t), []KV{{Key: "a", Value: []byte("A")}, {Key: "a/1", Value: []byte("A1")},
			{Key: "a/2", Value: []byte("A2")}, {Key: "b", Version: 0, Value: []byte("B")}}); err != nil {
			t.Fatal(err)
		}
		var read int
		p.setReply(func(method string, _, reply proto.Message) {
			if r, ok := reply.(*lsspb.GetReply); ok {
				read += len(r.GetKvs())
			}
		})
		for _, tc := range []struct {
			key   string
			value string // "" when absent
		}{{"a", "A"}, {"a/1", "A1"}, {"b", "B"}, {"a/", ""}, {"c", ""}, {"", ""}} {
			read = 0
			e, ok, err := c.GetKey(ctxT(t), tc.key)
			if err != nil {
				t.Fatalf("base only %v: GetKey(%q): %v", baseOnly, tc.key, err)
			}
			if ok != (tc.value != "") || (ok && (e.Key != tc.key || string(e.Value) != tc.value)) {
				t.Errorf("base only %v: GetKey(%q) = %q %q %v, want %q", baseOnly, tc.key, e.Key, e.Value, ok, tc.value)
			}
			if !baseOnly && read > 1 {
				t.Errorf("GetKey(%q) read %d entries from an extension server, want at most 1", tc.key, read)
			}
		}
		// A man in the middle answering with the next key's entry, or
		// dropping the one asked for.
		for name, alter := range map[string]func(*lsspb.GetReply){
			"another key": func(r *lsspb.GetReply) {
				if len(r.Kvs) > 0 {
					r.Kvs[0].Key = "a/1"
				}
			},
			"dropped": func(r *lsspb.GetReply) { r.Kvs = nil },
		} {
			p.setReply(func(_ string, _, reply proto.Message) {
				if r, ok := reply.(*lsspb.GetReply); ok {
					alter(r)
				}
			})
			if _, ok, err := c.GetKey(ctxT(t), "a"); err == nil {
				t.Errorf("base only %v, %s: GetKey = found %v, no error", baseOnly, name, ok)
			}
		}
		p.setReply(nil)
	}
}
