package bolt_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
)

// BenchmarkStoreSignerModes runs the signer workload (one writer, sequential
// writes of 4 keys of 2 KiB at the next version) against the store, as a plain
// Put and as a two-phase Prepare + Commit, with a short pause between writes
// (the client's round trip). It reports the median time of each call, so the
// store's share of the atomic put's cost can be compared with the plain put's
// without the network.
func BenchmarkStoreSignerModes(b *testing.B) {
	for _, atomic := range []bool{false, true} {
		name := "plain"
		if atomic {
			name = "atomic"
		}
		b.Run(name, func(b *testing.B) {
			s := benchStore(b, bolt.Options{})
			value := make([]byte, 2048)
			kvs := make([]store.KV, 4)
			ctx := context.Background()
			client := []byte("signer")
			var puts, commits []time.Duration
			b.ResetTimer()
			for version := int64(0); version < int64(b.N); version++ {
				for i := range kvs {
					kvs[i] = store.KV{Key: fmt.Sprintf("channel/%d", i), Version: version, Value: value}
				}
				start := time.Now()
				if !atomic {
					if conflicts, err := s.Put(ctx, client, kvs); err != nil || len(conflicts) > 0 {
						b.Fatalf("Put: %v, %d conflicts", err, len(conflicts))
					}
					puts = append(puts, time.Since(start))
				} else {
					txid := make([]byte, 32)
					_, _ = rand.Read(txid)
					state, conflicts, err := s.PrepareQuorum(ctx, client, txid, store.Quorum{Participants: [][]byte{{1}, {2}, {3}}, W: 2}, txid, kvs)
					if err != nil || len(conflicts) > 0 || state != store.TxPrepared {
						b.Fatalf("Prepare: %v, %v, %d conflicts", state, err, len(conflicts))
					}
					puts = append(puts, time.Since(start))
					time.Sleep(200 * time.Microsecond)
					start = time.Now()
					proofs := make([][]byte, len(kvs))
					for i := range proofs {
						proofs[i] = txid
					}
					if err := s.Commit(ctx, client, txid, proofs); err != nil {
						b.Fatalf("Commit: %v", err)
					}
					commits = append(commits, time.Since(start))
				}
				time.Sleep(200 * time.Microsecond)
			}
			b.StopTimer()
			median := func(d []time.Duration) float64 {
				if len(d) == 0 {
					return 0
				}
				slices.Sort(d)
				return float64(d[len(d)/2].Microseconds())
			}
			b.ReportMetric(median(puts), "put/prepare-p50-µs")
			b.ReportMetric(median(commits), "commit-p50-µs")
		})
	}
}
