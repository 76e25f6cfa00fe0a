package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// wantKVs requires got to equal want element by element. Values compare with
// bytes.Equal, so a nil and an empty value are the same.
func wantKVs(t *testing.T, what string, got, want []store.KV) {
	t.Helper()
	if !sameKVs(got, want) {
		t.Fatalf("%s =\n  %s\nwant\n  %s", what, formatKVs(got), formatKVs(want))
	}
}

func sameKVs(a, b []store.KV) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Version != b[i].Version || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// wantConflicts requires got to equal want, in order, including ReservedBy.
func wantConflicts(t *testing.T, what string, got, want []store.Conflict) {
	t.Helper()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		g, w := got[i], want[i]
		same = g.Key == w.Key && g.Version == w.Version && bytes.Equal(g.Value, w.Value) &&
			bytes.Equal(g.ReservedBy, w.ReservedBy)
	}
	if !same {
		t.Fatalf("%s conflicts =\n  %s\nwant\n  %s", what, formatConflicts(got), formatConflicts(want))
	}
}

func absent(key string) store.Conflict { return store.Conflict{Key: key, Version: -1} }

func stored(key string, version int64, value string) store.Conflict {
	return store.Conflict{Key: key, Version: version, Value: []byte(value)}
}

func reserved(c store.Conflict, txid []byte) store.Conflict {
	c.ReservedBy = txid
	return c
}

func formatKVs(kvs []store.KV) string {
	if len(kvs) > 20 {
		return fmt.Sprintf("%d key-values from %q to %q", len(kvs), kvs[0].Key, kvs[len(kvs)-1].Key)
	}
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = fmt.Sprintf("%q@%d=%s", kv.Key, kv.Version, short(kv.Value))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func formatConflicts(cs []store.Conflict) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%q@%d=%s", c.Key, c.Version, short(c.Value))
		if c.ReservedBy != nil {
			parts[i] += fmt.Sprintf("(reserved by %x)", c.ReservedBy)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func short(v []byte) string {
	if len(v) > 16 {
		return fmt.Sprintf("%q...(%d bytes)", v[:16], len(v))
	}
	return fmt.Sprintf("%q", v)
}
