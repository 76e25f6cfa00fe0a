package etcd

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

func TestEntryRoundTrip(t *testing.T) {
	for _, e := range []entry{
		{hasValue: true, kv: store.KV{Key: "k", Version: 7, Value: []byte("value")}},
		{hasValue: true, kv: store.KV{Key: "k", Version: 0, Value: []byte{}}},
		{reserved: bytes.Repeat([]byte{0xab}, 32)},
		{hasValue: true, kv: store.KV{Key: "k", Version: 1 << 40, Value: []byte{0, 0xff}}, reserved: []byte("0123456789abcdef")},
	} {
		got, err := decodeEntry("k", encodeEntry(e))
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", e, err)
		}
		if got.hasValue != e.hasValue || got.kv.Version != e.kv.Version || !bytes.Equal(got.kv.Value, e.kv.Value) ||
			!bytes.Equal(got.reserved, e.reserved) || (got.reserved == nil) != (e.reserved == nil) {
			t.Fatalf("decode(encode(%+v)) = %+v", e, got)
		}
	}
	if !(entry{}).empty() || (entry{reserved: []byte{1}}).empty() {
		t.Fatal("empty() is wrong")
	}
}

func TestEntryCorrupt(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":              {},
		"unknown flag":       {4},
		"short value":        {flagValue, 0, 0, 0},
		"reservation length": {flagReserved, 10, 1, 2},
		"trailing bytes":     {flagReserved, 1, 9, 9},
	} {
		if _, err := decodeEntry("k", b); err == nil || !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("%s: %v; want an error naming the key", name, err)
		}
	}
}

// One client's namespace must never be a prefix of another's, whatever the ids.
func TestLayoutSeparatesClients(t *testing.T) {
	a, b := newLayout("lss/", []byte{0x02, 0x01}), newLayout("lss/", []byte{0x02, 0x01, 0x00})
	if strings.HasPrefix(b.entryKey(""), a.entryPrefix()) || strings.HasPrefix(a.entryKey(""), b.entryPrefix()) {
		t.Fatalf("namespaces overlap: %q and %q", a.root, b.root)
	}
	if k := a.entryKey("x/y"); a.keyOf(k) != "x/y" {
		t.Fatalf("keyOf(entryKey) = %q", a.keyOf(k))
	}
}

func TestCheckVersion(t *testing.T) {
	if err := checkVersion("1"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2", "0", "x", ""} {
		if err := checkVersion(v); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("checkVersion(%q) = %v, want ErrSchemaTooNew", v, err)
		}
	}
}
