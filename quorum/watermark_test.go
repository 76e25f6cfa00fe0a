package quorum

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lssquorum/lss/provider"
)

func TestCheckWatermark(t *testing.T) {
	t.Parallel()
	merged := []provider.Entry{ent("a/1", 3, "x"), ent("a/2", 0, "y"), ent("b/1", 1, "z")}
	tests := []struct {
		name   string
		prefix string
		mark   map[string]int64
		want   []KeyRollback
	}{
		{"empty watermark", "", nil, nil},
		{"at the watermark", "", map[string]int64{"a/1": 3, "a/2": 0, "b/1": 1}, nil},
		{"above the watermark", "", map[string]int64{"a/1": 2}, nil},
		{"below on one key", "", map[string]int64{"a/1": 4, "a/2": 0}, []KeyRollback{{Key: "a/1", Watermark: 4, Merged: 3}}},
		{"a key gone entirely", "a/", map[string]int64{"a/3": 0}, []KeyRollback{{Key: "a/3", Watermark: 0, Merged: -1}}},
		{"keys outside the prefix are not checked", "a/", map[string]int64{"b/1": 9, "c": 0}, nil},
		{"sorted by key", "", map[string]int64{"z": 1, "b/1": 2, "a/1": 5},
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
