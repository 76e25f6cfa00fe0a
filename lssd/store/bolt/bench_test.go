package bolt_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
)

// BenchmarkStorePut runs the provider-load workload against the store: 32
// concurrent writers, each put 64 keys of 128-byte values, alternating inserts at
// version 0 with updates of the previous put's keys. Compare the two sub-benchmarks
// to see what group commit gains: every put is one fsync without it.
func BenchmarkStorePut(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts bolt.Options
	}{{"GroupCommit", bolt.Options{}}, {"NoGroupCommit", bolt.Options{NoGroupCommit: true}}} {
		b.Run(bc.name, func(b *testing.B) { benchmarkPut(b, bc.opts) })
	}
}

const (
	benchWriters   = 32
	benchKeysPerTx = 64
	benchValueLen  = 128
)

func benchmarkPut(b *testing.B, opts bolt.Options) {
	s := benchStore(b, opts)
	value := make([]byte, benchValueLen)
	if _, err := rand.Read(value); err != nil {
		b.Fatal(err)
	}
	var nextWriter atomic.Int64
	b.SetParallelism((benchWriters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := []byte(fmt.Sprintf("writer-%02d", nextWriter.Add(1)))
		kvs := make([]store.KV, benchKeysPerTx)
		ctx := context.Background()
		for round := 0; pb.Next(); round++ {
			// Even rounds insert new keys; odd rounds update the keys just inserted.
			batch, version := round, int64(0)
			if round%2 == 1 {
				batch, version = round-1, 1
			}
			for i := range kvs {
				kvs[i] = store.KV{Key: fmt.Sprintf("tx%08d/key%02d", batch, i), Version: version, Value: value}
			}
			conflicts, err := s.Put(ctx, client, kvs)
			if err != nil || len(conflicts) > 0 {
				b.Errorf("Put: %v, %d conflicts", err, len(conflicts))
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchKeysPerTx)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkStorePutSigner runs the signer workload against the store: one writer,
// sequential puts of 4 keys of 2 KiB at the next version. ns/op is the put latency;
// group commit must not make a lone writer wait.
func BenchmarkStorePutSigner(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts bolt.Options
	}{{"GroupCommit", bolt.Options{}}, {"NoGroupCommit", bolt.Options{NoGroupCommit: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchStore(b, bc.opts)
			value := make([]byte, 2048)
			kvs := make([]store.KV, 4)
			ctx := context.Background()
			b.ResetTimer()
			for version := int64(0); version < int64(b.N); version++ {
				for i := range kvs {
					kvs[i] = store.KV{Key: fmt.Sprintf("channel/%d", i), Version: version, Value: value}
				}
				if conflicts, err := s.Put(ctx, []byte("signer"), kvs); err != nil || len(conflicts) > 0 {
					b.Fatalf("Put: %v, %d conflicts", err, len(conflicts))
				}
			}
		})
	}
}

// benchStore is a store over a fresh bolt database in the benchmark's
// temporary directory, closed when the benchmark ends.
func benchStore(b *testing.B, opts bolt.Options) *store.Store {
	b.Helper()
	opts.Path = b.TempDir() + "/lss.db"
	backend, err := bolt.Open(b.Context(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { backend.Close() })
	return store.New(backend, store.Options{})
}
