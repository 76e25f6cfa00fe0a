package quorum

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/lssquorum/lss/provider"
)

// fuzzReplies builds a read's replies from fuzz bytes: up to 5 providers, each
// answering with an error or with entries over 5 keys (versions 0 to 7, values
// from a small set, some without a commit proof: value prefixed "u"), and the
// client's watermark and W.
func fuzzReplies(data []byte) (replies []reply, marks map[string]Mark, w int) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	values := []string{"x", "y", "ux", "uy"}
	n := 1 + int(next())%5
	w = 1 + int(next())%n
	for p := range n {
		name := fmt.Sprintf("p%d", p)
		flags := next()
		var es []provider.Entry
		for k := range 5 {
			b := next()
			if b&1 == 0 {
				continue
			}
			v := values[int(b>>1)%len(values)]
			es = append(es, provider.Entry{Key: fmt.Sprintf("k%d", k), Version: int64(b>>3) % 8, Value: []byte(v), Stored: []byte(v)})
		}
		r := reply{name: name, entries: es}
		if flags&1 == 1 {
			r.err = &provider.Error{Provider: name, Op: "get", Err: provider.ErrValueHMAC}
		}
		replies = append(replies, r)
	}
	marks = map[string]Mark{}
	for k := range 5 {
		b := next()
		if b&1 == 0 {
			continue
		}
		m := Mark{Version: int64(b>>1) % 8}
		if b&2 != 0 {
			m.Digest = ValueDigest([]byte(values[int(b>>2)%2]))
		}
		marks[fmt.Sprintf("k%d", k)] = m
	}
	return replies, marks, w
}

func fuzzCertified(e provider.Entry) bool { return !bytes.HasPrefix(e.Value, []byte("u")) }

// FuzzMerge checks the read merge on random provider replies, in atomic mode
// (uncertified entries split off first): it never returns a value that no valid
// reply holds certified (from a provider that failed verification, or without a
// commit proof), never a version below another valid certified one of the same
// key, and every key some valid reply holds certified is returned or reported as
// a tie.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{2, 1, 0, 1, 1, 0, 0, 0, 1, 9, 0, 0, 0, 0, 0})
	f.Add([]byte{4, 2, 0, 0x3b, 0x0b, 0, 0, 0, 0x03, 0x0b, 0, 0, 0, 1, 0x3d, 0, 0, 0, 0, 0, 3, 0, 0, 0})
	f.Add([]byte{1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add(bytes.Repeat([]byte{0x5f}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		replies, marks, w := fuzzReplies(data)
		split, _ := splitCertified(replies, fuzzCertified, func(provider.Entry) []byte { return nil })
		res := merge(split, marks, w)

		top := map[string]int64{}
		held := map[string]bool{} // key@version=value held certified by a valid reply
		for _, r := range replies {
			if r.err != nil {
				continue
			}
			for _, e := range r.entries {
				if !fuzzCertified(e) {
					continue
				}
				held[fmt.Sprintf("%s@%d=%s", e.Key, e.Version, e.Value)] = true
				if v, ok := top[e.Key]; !ok || e.Version > v {
					top[e.Key] = e.Version
				}
			}
		}
		seen := map[string]bool{}
		for i, e := range res.merged {
			if !held[fmt.Sprintf("%s@%d=%s", e.Key, e.Version, e.Value)] {
				t.Fatalf("merged %s@%d=%s, which no valid reply holds certified", e.Key, e.Version, e.Value)
			}
			if e.Version < top[e.Key] {
				t.Fatalf("merged %s at %d below the verified %d", e.Key, e.Version, top[e.Key])
			}
			if i > 0 && res.merged[i-1].Key >= e.Key {
				t.Fatalf("merged keys out of order: %q then %q", res.merged[i-1].Key, e.Key)
			}
			seen[e.Key] = true
		}
		for _, tie := range res.ties {
			if seen[tie.Key] {
				t.Fatalf("key %q both merged and a tie", tie.Key)
			}
			if tie.Version != top[tie.Key] {
				t.Fatalf("tie of %q at %d, below the top verified version %d", tie.Key, tie.Version, top[tie.Key])
			}
			seen[tie.Key] = true
		}
		for k := range top {
			if !seen[k] {
				t.Fatalf("key %q held certified by a valid reply is neither merged nor a tie", k)
			}
		}
		for i, s := range res.states {
			if (replies[i].err != nil) != (s.Err != nil) || (s.Err != nil && !errors.Is(s.Err, provider.ErrValueHMAC)) {
				t.Fatalf("state of %s: %+v for reply error %v", s.Name, s, replies[i].err)
			}
		}
	})
}
