package bench

import "fmt"

// Verdict is one performance target checked against a comparison run.
type Verdict struct {
	// Target says what is wanted, e.g. "provider: plain items/s ≥ 0.70× one".
	Target string `json:"target"`
	// Got is the measured ratio and Limit the bound it is held to.
	Got   float64 `json:"got"`
	Limit float64 `json:"limit"`
	// Met reports whether the target is reached.
	Met bool `json:"met"`
}

// target is a ratio of two modes' figures of one workload with a bound on it.
type target struct {
	workload   Workload
	mode, base Mode
	what       string // "items/s" or "put p50"
	figure     func(Result) float64
	limit      float64
	atLeast    bool // the ratio must be ≥ limit (else ≤ limit)
}

func itemsPerSec(r Result) float64 { return r.ItemsPerSec }
func putP50(r Result) float64      { return float64(r.Put.P50) }
func putP99(r Result) float64      { return float64(r.Put.P99) }

// targets are the goals the comparison is measured against: a quorum costs a
// bounded share of one provider's throughput, an atomic put costs little more
// than a plain one (its second phase is cheap), a slow provider does not slow
// the quorum down, group commit pays, a signer's atomic put costs about two
// round trips, and encrypting its values costs microseconds, not a share of
// the put.
var targets = []target{
	{WorkloadProvider, ModePlain, ModeOne, "items/s", itemsPerSec, 0.7, true},
	{WorkloadProvider, ModeAtomic, ModeOne, "items/s", itemsPerSec, 0.5, true},
	{WorkloadProvider, ModeAtomic, ModePlain, "items/s", itemsPerSec, 0.8, true},
	{WorkloadSigner, ModeAtomic, ModePlain, "put p50", putP50, 1.3, false},
	{WorkloadSigner, ModeAtomic, ModePlain, "put p99", putP99, 2, false},
	{WorkloadProvider, ModeSlow, ModeAtomic, "put p50", putP50, 1.5, false},
	{WorkloadProvider, ModeOne, ModeNoGroup, "items/s", itemsPerSec, 3, true},
	{WorkloadSigner, ModeAtomic, ModeOne, "put p50", putP50, 2.5, false},
	{WorkloadSigner, ModeSlow, ModeAtomic, "put p50", putP50, 1.5, false},
	{WorkloadSigner, ModeAtomic, ModeNoEncrypt, "put p50", putP50, 1.25, false},
}

// Targets checks every target whose two modes are both among results, on each
// database the results were measured on (named in the target when there are
// several).
func Targets(results []Result) []Verdict {
	dbs := databases(results)
	var vs []Verdict
	for _, db := range dbs {
		for _, v := range targetsOn(results, db) {
			if len(dbs) > 1 {
				v.Target += " [" + db + "]"
			}
			vs = append(vs, v)
		}
	}
	return vs
}

// targetsOn checks the targets on the results measured on database db.
func targetsOn(results []Result, db string) []Verdict {
	find := func(w Workload, m Mode) (Result, bool) {
		for _, r := range results {
			if r.Workload == w && r.Mode == m && r.Database == db {
				return r, true
			}
		}
		return Result{}, false
	}
	var vs []Verdict
	for _, t := range targets {
		r, ok1 := find(t.workload, t.mode)
		b, ok2 := find(t.workload, t.base)
		if !ok1 || !ok2 {
			continue
		}
		got := ratio(t.figure(r), t.figure(b))
		op, met := "≤", got <= t.limit
		if t.atLeast {
			op, met = "≥", got >= t.limit
		}
		if got == 0 {
			met = false // nothing measured: not a success
		}
		vs = append(vs, Verdict{
			Target: fmt.Sprintf("%s: %s %s %s %.2f× %s", t.workload, t.mode, t.what, op, t.limit, t.base),
			Got:    got,
			Limit:  t.limit,
			Met:    met,
		})
	}
	return vs
}
