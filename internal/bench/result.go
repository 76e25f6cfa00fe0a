package bench

import "time"

// Result is what one run of a workload in one mode measured.
type Result struct {
	// Workload and Mode say what was run.
	Workload Workload `json:"workload"`
	Mode     Mode     `json:"mode"`
	// Database is the providers' embedded database for a local network; empty
	// for configured providers.
	Database string `json:"database,omitempty"`
	// Writers is the number of concurrent writers; Rounds the transactions each
	// was to put.
	Writers int `json:"writers"`
	Rounds  int `json:"rounds"`
	// Transactions counts the acknowledged puts and Items the keys they wrote.
	Transactions int `json:"transactions"`
	Items        int `json:"items"`
	// Errors counts the failed puts and gets; FirstError describes the first.
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// Truncated is set when Options.MaxDuration ended the run before every
	// writer finished its rounds.
	Truncated bool `json:"truncated"`
	// Seconds is the wall time from the first put to the last writer's end.
	Seconds float64 `json:"seconds"`
	// TxPerSec and ItemsPerSec are Transactions and Items over Seconds.
	TxPerSec    float64 `json:"tx_per_sec"`
	ItemsPerSec float64 `json:"items_per_sec"`
	// Put is the latency of the acknowledged puts, Get that of the signer's full
	// gets (empty for the provider-load workload).
	Put Latency `json:"put"`
	Get Latency `json:"get"`
	// Versus compares the run with the one-provider run of the same workload
	// (nil when there was none); see Compare.
	Versus *Ratios `json:"vs_one,omitempty"`
}

// Ratios are a run's figures divided by the one-provider run's.
type Ratios struct {
	// ItemsPerSec is the ratio of throughputs: above 1 is faster than one
	// provider.
	ItemsPerSec float64 `json:"items_per_sec"`
	// PutP50 and GetP50 are ratios of median latencies: above 1 is slower. GetP50
	// is zero when either run made no get.
	PutP50 float64 `json:"put_p50"`
	GetP50 float64 `json:"get_p50,omitempty"`
}

// finish derives the rates from the counts and the elapsed time.
func (r *Result) finish(elapsed time.Duration) {
	r.Seconds = elapsed.Seconds()
	if r.Seconds > 0 {
		r.TxPerSec = float64(r.Transactions) / r.Seconds
		r.ItemsPerSec = float64(r.Items) / r.Seconds
	}
}

// Compare sets Versus on every result that has a one-provider result of the
// same workload on the same database among results, and returns results.
func Compare(results []Result) []Result {
	type kind struct {
		w  Workload
		db string
	}
	base := make(map[kind]Result)
	for _, r := range results {
		if r.Mode == ModeOne {
			base[kind{r.Workload, r.Database}] = r
		}
	}
	for i, r := range results {
		one, ok := base[kind{r.Workload, r.Database}]
		if !ok {
			continue
		}
		results[i].Versus = &Ratios{
			ItemsPerSec: ratio(r.ItemsPerSec, one.ItemsPerSec),
			PutP50:      ratio(float64(r.Put.P50), float64(one.Put.P50)),
			GetP50:      ratio(float64(r.Get.P50), float64(one.Get.P50)),
		}
	}
	return results
}

// ratio is a/b, or 0 when b is 0 (nothing to compare with).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
