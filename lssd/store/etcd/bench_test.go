package etcd

import (
	"testing"

	"github.com/lssquorum/lss/internal/storebench"
	"github.com/lssquorum/lss/internal/testdb"
)

func BenchmarkStorePut(b *testing.B) {
	storebench.Load(b, openBench(b))
}

func BenchmarkSignerPut(b *testing.B) {
	storebench.Signer(b, openBench(b))
}

func openBench(b *testing.B) *Backend {
	backend, err := Open(b.Context(), Options{Endpoints: testdb.EtcdEndpoints(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { backend.Close() })
	return backend
}
