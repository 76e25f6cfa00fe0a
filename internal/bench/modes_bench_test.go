package bench

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkModes runs each workload in each mode on a local testnet with b.N
// rounds per writer, so that one mode can be profiled in isolation (ns/op
// includes starting the network: read items/s and the latencies), e.g.
//
//	go test -run NONE -bench 'Modes/provider/atomic' -benchtime 40x -cpuprofile cpu.out ./internal/bench
func BenchmarkModes(b *testing.B) {
	for _, w := range []Workload{WorkloadProvider, WorkloadSigner} {
		for _, m := range AllModes {
			b.Run(fmt.Sprintf("%s/%s", w, m), func(b *testing.B) {
				res, err := RunLocal(context.Background(), m, Options{Workload: w, Rounds: b.N}, Local{Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				if res.Errors > 0 {
					b.Fatalf("%d errors, first: %s", res.Errors, res.FirstError)
				}
				b.ReportMetric(res.ItemsPerSec, "items/s")
				b.ReportMetric(ms(res.Put.P50), "p50-ms")
				b.ReportMetric(ms(res.Put.P99), "p99-ms")
			})
		}
	}
}
