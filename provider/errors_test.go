package provider

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

func TestErrorsWorkThroughTheWrapper(t *testing.T) {
	t.Parallel()
	conflict := &Error{Provider: "p1", Op: "put", Err: &ConflictError{Provider: "p1", Conflicts: []Conflict{
		{Key: "k", Version: 3}, {Key: "r", Version: -1, ReservedBy: []byte{0xab}},
	}}}
	var ce *ConflictError
	if !errors.Is(conflict, ErrConflict) || !errors.As(conflict, &ce) || len(ce.Conflicts) != 2 {
		t.Errorf("conflict error not matched: %v", conflict)
	}
	if msg := conflict.Error(); !strings.Contains(msg, "provider p1: put:") || !strings.Contains(msg, `"k" stored version 3`) ||
		!strings.Contains(msg, "reserved by tx ab") {
		t.Errorf("message = %q", msg)
	}

	tampered := fmt.Errorf("outer: %w", &Error{Provider: "p2", Op: "get", Err: &TamperedError{Provider: "p2", Keys: []KeyVersion{{"a", 1}}}})
	var te *TamperedError
	if !errors.Is(tampered, ErrValueHMAC) || !errors.Is(tampered, wire.ErrValueHMAC) || !errors.As(tampered, &te) || te.Keys[0].Key != "a" {
		t.Errorf("tampered error not matched: %v", tampered)
	}
	if errors.Is(tampered, ErrConflict) || errors.Is(conflict, ErrValueHMAC) {
		t.Error("typed errors match the wrong sentinel")
	}
	if !strings.Contains(tampered.Error(), `"a" version 1`) {
		t.Errorf("message = %q", tampered.Error())
	}
}

func TestCheckListing(t *testing.T) {
	t.Parallel()
	kvs := func(keys ...string) []*lsspb.KeyValue {
		out := make([]*lsspb.KeyValue, len(keys))
		for i, k := range keys {
			out[i] = &lsspb.KeyValue{Key: k}
		}
		return out
	}
	for _, ok := range []struct {
		prefix string
		keys   []string
	}{{"", nil}, {"", []string{"a", "b"}}, {"x", []string{"x", "x1", "xa"}}} {
		if err := checkListing(ok.prefix, kvs(ok.keys...)); err != nil {
			t.Errorf("checkListing(%q, %v) = %v", ok.prefix, ok.keys, err)
		}
	}
	for _, bad := range []struct {
		prefix string
		keys   []string
	}{{"", []string{"b", "a"}}, {"", []string{"a", "a"}}, {"x", []string{"x1", "y"}}, {"xy", []string{"x"}}} {
		if err := checkListing(bad.prefix, kvs(bad.keys...)); !errors.Is(err, ErrInvalidReply) {
			t.Errorf("checkListing(%q, %v) = %v, want ErrInvalidReply", bad.prefix, bad.keys, err)
		}
	}
}
