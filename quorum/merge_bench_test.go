package quorum

import (
	"fmt"
	"testing"

	"github.com/lssquorum/lss/provider"
)

// benchReplies is what n providers answer to a full get of keys keys: all agree
// except the last, which lags one version behind on every tenth key, so merge
// does its full work (pick winners, classify a provider as behind).
func benchReplies(n, keys int) []reply {
	replies := make([]reply, n)
	value := make([]byte, 160)
	for p := range replies {
		es := make([]provider.Entry, keys)
		for k := range es {
			v := int64(5)
			if p == n-1 && k%10 == 0 {
				v = 4
			}
			es[k] = provider.Entry{Key: fmt.Sprintf("signer/k%06d", k), Version: v, Value: value[:128], Stored: value}
		}
		replies[p] = reply{name: fmt.Sprintf("p%d", p), entries: es}
	}
	return replies
}

// BenchmarkMerge merges the replies of a Get: 3 and 5 providers, 64 keys (a
// provider-load transaction) and 1000 keys (a signer's full state).
func BenchmarkMerge(b *testing.B) {
	for _, n := range []int{3, 5} {
		for _, keys := range []int{64, 1000} {
			b.Run(fmt.Sprintf("N=%d/keys=%d", n, keys), func(b *testing.B) {
				replies := benchReplies(n, keys)
				b.ReportAllocs()
				for b.Loop() {
					m := merge(replies, nil, n/2+1)
					if len(m.merged) != keys || len(m.states) != n {
						b.Fatalf("merged %d keys and %d states, want %d and %d", len(m.merged), len(m.states), keys, n)
					}
				}
			})
		}
	}
}
