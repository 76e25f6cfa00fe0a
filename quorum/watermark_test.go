package quorum

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lssquorum/lss/provider"
)

func mk(version int64, value string) Mark {
	return Mark{Version: version, Digest: ValueDigest([]byte(value))}
}

func TestCheckWatermark(t *testing.T) {
	t.Parallel()
	merged := []provider.Entry{ent("a/1", 3, "x"), ent("a/2", 0, "y"), ent("b/1", 1, "z")}
	tests := []struct {
		name   string
		prefix string
		mark   map[string]Mark
		want   []KeyRollback
	}{
		{"empty watermark", "", nil, nil},
		{"at the watermark", "", map[string]Mark{"a/1": mk(3, "x"), "a/2": {Version: 0}, "b/1": mk(1, "z")}, nil},
		{"above the watermark", "", map[string]Mark{"a/1": mk(2, "old")}, nil},
		{"below on one key", "", map[string]Mark{"a/1": {Version: 4}, "a/2": {Version: 0}}, []KeyRollback{{Key: "a/1", Watermark: 4, Merged: 3}}},
		{"at the version with another value", "", map[string]Mark{"a/1": mk(3, "acknowledged")},
			[]KeyRollback{{Key: "a/1", Watermark: 3, Merged: 3, OtherValue: true}}},
		{"a key gone entirely", "a/", map[string]Mark{"a/3": {Version: 0}}, []KeyRollback{{Key: "a/3", Watermark: 0, Merged: -1}}},
		{"keys outside the prefix are not checked", "a/", map[string]Mark{"b/1": {Version: 9}, "c": {Version: 0}}, nil},
		{"sorted by key", "", map[string]Mark{"z": {Version: 1}, "b/1": {Version: 2}, "a/1": {Version: 5}},
			[]KeyRollback{{Key: "a/1", Watermark: 5, Merged: 3}, {Key: "b/1", Watermark: 2, Merged: 1}, {Key: "z", Watermark: 1, Merged: -1}}},
	}
	for _, tt := range tests {
		if got := checkWatermark(tt.prefix, merged, tt.mark); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestWatermarkOnlyRises(t *testing.T) {
	t.Parallel()
	var w watermark
	w.raiseKVs([]provider.KV{{Key: "k", Version: 3}, {Key: "j", Version: 0}})
	w.raiseEntries([]provider.Entry{ent("k", 1, ""), ent("j", 2, "")})
	snap := w.snapshot()
	if want := map[string]int64{"k": 3, "j": 2}; !reflect.DeepEqual(snap, want) {
		t.Errorf("watermark = %v, want %v", snap, want)
	}
	snap["k"] = 0
	if w.snapshot()["k"] != 3 {
		t.Error("snapshot shares memory with the watermark")
	}
	if d := w.takeDirty(); !reflect.DeepEqual(d, map[string]int64{"k": 3, "j": 2}) {
		t.Errorf("dirty = %v", d)
	}
	w.raiseKVs([]provider.KV{{Key: "k", Version: 2}})
	if d := w.takeDirty(); d != nil {
		t.Errorf("a lower version made %v dirty", d)
	}
}

func TestMarksOnlyRise(t *testing.T) {
	t.Parallel()
	var w markSet
	w.raiseKVs([]provider.KV{kvOf("k", 3, "c"), kvOf("j", 0, "a")})
	w.raise("k", mk(2, "b"))       // lower: ignored
	w.raise("k", mk(3, "other"))   // same version, a digest is there: kept
	w.raise("j", Mark{Version: 0}) // no digest: never replaces one
	w.raise("n", Mark{Version: 4}) // from an old file: no digest
	w.raise("n", mk(4, "filled"))  // a digest fills it in
	want := map[string]Mark{"k": mk(3, "c"), "j": mk(0, "a"), "n": mk(4, "filled")}
	if got := w.snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("marks = %v, want %v", got, want)
	}
	if d := w.takeDirty(); len(d) != 3 {
		t.Errorf("dirty = %v", d)
	}
	w.reset([]string{"k"})
	if _, ok := w.get("k"); ok {
		t.Error("reset kept k")
	}
}

func kvOf(key string, version int64, value string) provider.KV {
	return provider.KV{Key: key, Version: version, Value: []byte(value)}
}

func TestCheckPut(t *testing.T) {
	t.Parallel()
	marks := map[string]Mark{"k": mk(5, "acked"), "old": {Version: 2}}
	get := func(k string) (Mark, bool) { m, ok := marks[k]; return m, ok }
	tests := []struct {
		name string
		kvs  []provider.KV
		want []KeyRollback
	}{
		{"above", []provider.KV{kvOf("k", 6, "x")}, nil},
		{"a new key", []provider.KV{kvOf("new", 0, "x")}, nil},
		{"below", []provider.KV{kvOf("k", 4, "ff")}, []KeyRollback{{Key: "k", Watermark: 5, Merged: 4}}},
		{"at, another value", []provider.KV{kvOf("k", 5, "ee")}, []KeyRollback{{Key: "k", Watermark: 5, Merged: 5, OtherValue: true}}},
		{"at, the acknowledged value (the re-put way out)", []provider.KV{kvOf("k", 5, "acked")}, nil},
		{"at, no digest known", []provider.KV{kvOf("old", 2, "x")}, []KeyRollback{{Key: "old", Watermark: 2, Merged: 2}}},
		{"sorted, only the bad ones", []provider.KV{kvOf("old", 1, "x"), kvOf("new", 0, ""), kvOf("k", 0, "")},
			[]KeyRollback{{Key: "k", Watermark: 5, Merged: 0}, {Key: "old", Watermark: 2, Merged: 1}}},
	}
	for _, tt := range tests {
		if got := checkPut(tt.kvs, get); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	err := error(&BelowWatermarkError{Keys: checkPut([]provider.KV{kvOf("k", 4, "ff")}, get)})
	if !errors.Is(err, ErrRollback) || !strings.Contains(err.Error(), `"k" v4 is below the acknowledged v5`) || !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("err = %v", err)
	}
}

func TestRollbackErrorSaysWhat(t *testing.T) {
	t.Parallel()
	err := error(&RollbackError{
		Prefix:   "chan/",
		Keys:     []KeyRollback{{Key: "chan/1", Watermark: 7, Merged: 5}, {Key: "chan/2", Watermark: 0, Merged: -1}},
		Answered: []string{"p0", "p1"},
		Unheard:  []string{"p2"},
	})
	if !errors.Is(err, ErrRollback) {
		t.Error("errors.Is(ErrRollback) is false")
	}
	for _, want := range []string{`"chan/1" acknowledged at v7, providers hold v5`, `"chan/2" acknowledged at v0, providers hold nothing`, "p0, p1", "no valid reply from p2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}
