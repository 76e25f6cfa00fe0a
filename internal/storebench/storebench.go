// Package storebench runs the project's standard storage workloads against a
// store.Backend, for backends' benchmarks: the provider load (many concurrent
// writers putting many keys) and the signer (one writer, small sequential puts,
// each waiting for the last).
package storebench

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// The provider-load workload: 32 concurrent writers, each put 64 keys of 128-byte
// values, alternating inserts at version 0 with updates of the previous put's keys.
const (
	loadWriters   = 32
	loadKeysPerTx = 64
	loadValueLen  = 128
)

// The signer workload: one writer, 4 keys of 2 KiB at the next version per put.
const (
	signerKeys     = 4
	signerValueLen = 2 << 10
)

// Load runs the provider-load workload on b's iterations and reports items/s and
// puts/s.
func Load(b *testing.B, backend store.Backend) {
	s := store.New(backend, store.Options{})
	value := randomBytes(b, loadValueLen)
	var nextWriter atomic.Int64
	run := randomBytes(b, 8) // fresh client ids on a shared database
	b.SetParallelism((loadWriters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := fmt.Appendf(nil, "load-%x-%02d", run, nextWriter.Add(1))
		kvs := make([]store.KV, loadKeysPerTx)
		for round := 0; pb.Next(); round++ {
			// Even rounds insert new keys; odd rounds update the keys just inserted.
			batch, version := round, int64(0)
			if round%2 == 1 {
				batch, version = round-1, 1
			}
			for i := range kvs {
				kvs[i] = store.KV{Key: fmt.Sprintf("tx%08d/key%02d", batch, i), Version: version, Value: value}
			}
			if conflicts, err := s.Put(context.Background(), client, kvs); err != nil || len(conflicts) > 0 {
				b.Errorf("Put: %v, %d conflicts", err, len(conflicts))
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*loadKeysPerTx)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// Signer runs the signer workload: each iteration is one put, at the next version
// of the same keys.
func Signer(b *testing.B, backend store.Backend) {
	s := store.New(backend, store.Options{})
	client := fmt.Appendf(nil, "signer-%x", randomBytes(b, 8))
	kvs := make([]store.KV, signerKeys)
	for i := range kvs {
		kvs[i] = store.KV{Key: fmt.Sprintf("channel/%d", i), Value: randomBytes(b, signerValueLen)}
	}
	b.ResetTimer()
	for version := int64(0); version < int64(b.N); version++ {
		for i := range kvs {
			kvs[i].Version = version
		}
		if conflicts, err := s.Put(context.Background(), client, kvs); err != nil || len(conflicts) > 0 {
			b.Fatalf("Put: %v, %d conflicts", err, len(conflicts))
		}
	}
}

func randomBytes(b *testing.B, n int) []byte {
	v := make([]byte, n)
	if _, err := rand.Read(v); err != nil {
		b.Fatal(err)
	}
	return v
}
