package bench

import (
	"encoding/json"
	"math"
	"slices"
	"time"
)

// Latency summarises the durations of one kind of call.
type Latency struct {
	// Count is the number of calls measured.
	Count int
	// P50, P90 and P99 are percentiles (nearest rank); Max is the slowest call.
	P50, P90, P99, Max time.Duration
}

// summarize computes the percentiles of ds; it sorts ds in place.
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{
		Count: len(ds),
		P50:   percentile(ds, 50),
		P90:   percentile(ds, 90),
		P99:   percentile(ds, 99),
		Max:   ds[len(ds)-1],
	}
}

// percentile is the nearest-rank p-th percentile of sorted, which is not empty:
// the smallest value with at least p% of the values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// ms converts d to fractional milliseconds, the unit results are printed in.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyJSON is Latency as JSON: milliseconds, so the numbers read directly.
type latencyJSON struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// MarshalJSON writes the latencies in milliseconds.
func (l Latency) MarshalJSON() ([]byte, error) {
	return json.Marshal(latencyJSON{Count: l.Count, P50: ms(l.P50), P90: ms(l.P90), P99: ms(l.P99), Max: ms(l.Max)})
}

// UnmarshalJSON is the inverse of MarshalJSON (to microsecond precision at
// worst).
func (l *Latency) UnmarshalJSON(b []byte) error {
	var j latencyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d := func(v float64) time.Duration { return time.Duration(math.Round(v * float64(time.Millisecond))) }
	*l = Latency{Count: j.Count, P50: d(j.P50), P90: d(j.P90), P99: d(j.P99), Max: d(j.Max)}
	return nil
}
