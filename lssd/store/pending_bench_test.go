package store_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/lssquorum/lss/lssd/store"
)

// BenchmarkAtomicWithPending: one Prepare and Commit of 4 keys of 128 bytes
// after another, with 0, 10 or 1,000 other transactions of the client left
// prepared, on memory (the store's own CPU cost) and bolt. What the list of
// prepared txids in the usage record (prepared.go) costs a client's writes as it
// grows:
//
//	go test -run '^$' -bench AtomicWithPending ./lssd/store
func BenchmarkAtomicWithPending(b *testing.B) {
	for _, be := range []string{"memory", "bolt"} {
		for _, n := range []int{0, 10, 1000} {
			b.Run(fmt.Sprintf("%s/pending=%d", be, n), func(b *testing.B) {
				ctx := context.Background()
				var back store.Backend
				if be == "bolt" {
					back = embedded[0].open(b)
				} else {
					back = newMemory(b)
				}
				defer back.Close()
				s := store.New(back, store.Options{})
				client := []byte("c")
				var seq uint64
				txid := func() []byte {
					seq++
					id := make([]byte, 32)
					binary.BigEndian.PutUint64(id[8:], seq)
					return id
				}
				for i := range n {
					if _, _, err := s.Prepare(ctx, client, txid(), []store.KV{{Key: fmt.Sprintf("held/%d", i), Value: []byte("v")}}); err != nil {
						b.Fatal(err)
					}
				}
				kvs := make([]store.KV, 4)
				proofs := make([][]byte, 4)
				for i := range proofs {
					proofs[i] = make([]byte, 32)
				}
				b.ResetTimer()
				for v := int64(0); v < int64(b.N); v++ {
					for i := range kvs {
						kvs[i] = store.KV{Key: fmt.Sprintf("k/%d", i), Version: v, Value: make([]byte, 128)}
					}
					id := txid()
					if _, _, err := s.Prepare(ctx, client, id, kvs); err != nil {
						b.Fatal(err)
					}
					if err := s.Commit(ctx, client, id, proofs); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
