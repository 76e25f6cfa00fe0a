package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/bolt"
	"github.com/lssquorum/lss/lssd/store/pebble"
)

// The embedded backends side by side, under the two workloads of the bench
// package, each with plain puts and with atomic puts (a synced Prepare, then a
// Commit, which pebble does not sync), in one run so that their ratios are
// measured on the same machine state:
//
//	go test -run '^$' -bench Backends ./lssd/store
//
// provider: 32 concurrent writers, each transaction 64 keys of 128 bytes,
// alternately inserting new keys and updating the previous transaction's keys.
// signer: one writer, sequential puts of 4 keys of 2 KiB at the next version.
// Both report items/s and the p50 and p99 latency of one put (Prepare + Commit
// for atomic) in microseconds.

// embedded lists the backends compared, by name.
var embedded = []struct {
	name string
	open func(b *testing.B) store.Backend
}{
	{"bolt", func(b *testing.B) store.Backend {
		be, err := bolt.Open(b.Context(), bolt.Options{Path: filepath.Join(b.TempDir(), "lss.db")})
		if err != nil {
			b.Fatal(err)
		}
		return be
	}},
	{"pebble", func(b *testing.B) store.Backend {
		be, err := pebble.Open(b.Context(), pebble.Options{Dir: filepath.Join(b.TempDir(), "pebble")})
		if err != nil {
			b.Fatal(err)
		}
		return be
	}},
}

// putFunc writes kvs for client as one put, plain or atomic.
type putFunc func(ctx context.Context, s *store.Store, client []byte, kvs []store.KV) error

func plainPut(ctx context.Context, s *store.Store, client []byte, kvs []store.KV) error {
	conflicts, err := s.Put(ctx, client, kvs)
	if err == nil && len(conflicts) > 0 {
		err = fmt.Errorf("%d conflicts", len(conflicts))
	}
	return err
}

var txCounter atomic.Uint64

func atomicPut(ctx context.Context, s *store.Store, client []byte, kvs []store.KV) error {
	txid := make([]byte, 32)
	copy(txid, fmt.Sprintf("tx-%016d", txCounter.Add(1)))
	state, conflicts, err := s.Prepare(ctx, client, txid, kvs)
	if err == nil && (len(conflicts) > 0 || state != store.TxPrepared) {
		err = fmt.Errorf("prepare: %v, %d conflicts", state, len(conflicts))
	}
	if err != nil {
		return err
	}
	proofs := make([][]byte, len(kvs)) // one per write, as long as a real HMAC
	for i := range proofs {
		proofs[i] = proof
	}
	return s.Commit(ctx, client, txid, proofs)
}

var proof = make([]byte, 32)

var puts = []struct {
	name string
	put  putFunc
}{{"plain", plainPut}, {"atomic", atomicPut}}

func BenchmarkBackends(b *testing.B) {
	for _, w := range []struct {
		name string
		run  func(*testing.B, store.Backend, putFunc)
	}{{"provider", benchProvider}, {"signer", benchSigner}} {
		for _, p := range puts {
			for _, e := range embedded {
				b.Run(w.name+"/"+p.name+"/"+e.name, func(b *testing.B) {
					be := e.open(b)
					defer be.Close()
					w.run(b, be, p.put)
				})
			}
		}
	}
}

// latencies collects put latencies from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// report adds the p50 and p99 put latencies and the items/s to b's results.
func (l *latencies) report(b *testing.B, items int) {
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	at := func(q float64) float64 {
		return float64(l.d[min(len(l.d)-1, int(q*float64(len(l.d))))].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

func benchProvider(b *testing.B, be store.Backend, put putFunc) {
	const writers, keys, valueLen = 32, 64, 128
	s := store.New(be, store.Options{})
	value := make([]byte, valueLen)
	if _, err := rand.Read(value); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var lat latencies
	b.SetParallelism((writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := fmt.Appendf(nil, "writer-%02d", next.Add(1))
		kvs := make([]store.KV, keys)
		ctx := context.Background()
		for round := 0; pb.Next(); round++ {
			batch, version := round, int64(0)
			if round%2 == 1 {
				batch, version = round-1, 1
			}
			for i := range kvs {
				kvs[i] = store.KV{Key: fmt.Sprintf("tx%08d/key%02d", batch, i), Version: version, Value: value}
			}
			start := time.Now()
			if err := put(ctx, s, client, kvs); err != nil {
				b.Error(err)
				return
			}
			lat.add(time.Since(start))
		}
	})
	b.StopTimer()
	lat.report(b, b.N*keys)
}

func benchSigner(b *testing.B, be store.Backend, put putFunc) {
	const keys, valueLen = 4, 2048
	s := store.New(be, store.Options{})
	value := make([]byte, valueLen)
	kvs := make([]store.KV, keys)
	ctx := context.Background()
	var lat latencies
	b.ResetTimer()
	for version := int64(0); version < int64(b.N); version++ {
		for i := range kvs {
			kvs[i] = store.KV{Key: fmt.Sprintf("channel/%d", i), Version: version, Value: value}
		}
		start := time.Now()
		if err := put(ctx, s, []byte("signer"), kvs); err != nil {
			b.Fatal(err)
		}
		lat.add(time.Since(start))
	}
	b.StopTimer()
	lat.report(b, b.N*keys)
}
