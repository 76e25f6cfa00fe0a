package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestRunPlanOnTestnets runs both workloads, tiny, in every mode on real lssd
// testnets and checks that the results add up and survive a JSON round trip.
// It asserts nothing about speed.
func TestRunPlanOnTestnets(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	results, err := RunPlan(ctxT(t, 2*time.Minute), Plan{
		Workloads: []Workload{WorkloadProvider, WorkloadSigner},
		Modes:     AllModes,
		Options:   Options{Rounds: 2, Writers: 2, GetEvery: 1},
		Local:     Local{Dir: t.TempDir()},
		Log:       &log,
	})
	if err != nil {
		t.Fatalf("RunPlan: %v\nlog:\n%s", err, &log)
	}
	if len(results) != 2*len(AllModes) {
		t.Fatalf("%d results, want %d", len(results), 2*len(AllModes))
	}
	for _, r := range results {
		name := r.Workload.String() + "/" + r.Mode.String()
		wantWriters, wantItems := 2, 2*2*LoadKeys
		if r.Workload == WorkloadSigner {
			wantWriters, wantItems = 1, 2*SignerKeys
		}
		if r.Errors != 0 || r.FirstError != "" || r.Truncated {
			t.Errorf("%s: %d errors (%q), truncated %v", name, r.Errors, r.FirstError, r.Truncated)
		}
		if r.Writers != wantWriters || r.Rounds != 2 || r.Transactions != wantWriters*2 || r.Items != wantItems {
			t.Errorf("%s: writers %d rounds %d transactions %d items %d; want %d, 2, %d, %d",
				name, r.Writers, r.Rounds, r.Transactions, r.Items, wantWriters, wantWriters*2, wantItems)
		}
		if r.Put.Count != r.Transactions || r.Put.P50 <= 0 || r.Put.P50 > r.Put.P90 || r.Put.P90 > r.Put.P99 || r.Put.P99 > r.Put.Max {
			t.Errorf("%s: put latency %+v", name, r.Put)
		}
		if r.Seconds <= 0 || r.TxPerSec <= 0 || math.Abs(r.ItemsPerSec-r.TxPerSec*float64(r.Items/r.Transactions)) > 1e-6*r.ItemsPerSec {
			t.Errorf("%s: %.3fs, %.1f tx/s, %.1f items/s", name, r.Seconds, r.TxPerSec, r.ItemsPerSec)
		}
		if r.Workload == WorkloadSigner && (r.Get.Count != 2 || r.Get.P50 <= 0) {
			t.Errorf("%s: get latency %+v, want 2 gets", name, r.Get)
		}
		if r.Workload == WorkloadProvider && r.Get.Count != 0 {
			t.Errorf("%s: %d gets in the provider-load workload", name, r.Get.Count)
		}
		if r.Versus == nil || (r.Mode == ModeOne && (r.Versus.ItemsPerSec != 1 || r.Versus.PutP50 != 1)) {
			t.Errorf("%s: ratios vs one %+v", name, r.Versus)
		}
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, results); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	lines := 0
	for sc.Scan() {
		var back Result
		if err := json.Unmarshal(sc.Bytes(), &back); err != nil {
			t.Fatalf("line %d does not parse: %v: %s", lines, err, sc.Text())
		}
		if want := results[lines]; back.Mode != want.Mode || back.Workload != want.Workload || back.Items != want.Items ||
			back.Put.Count != want.Put.Count || back.Put.P50.Round(time.Microsecond) != want.Put.P50.Round(time.Microsecond) {
			t.Errorf("line %d round-trips to %+v, want %+v", lines, back, want)
		}
		lines++
	}
	if lines != len(results) {
		t.Fatalf("%d JSON lines, want %d", lines, len(results))
	}
	var table bytes.Buffer
	if err := WriteTable(&table, results, true); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(table.String(), "\n"); got != len(results)+1 {
		t.Fatalf("table has %d lines, want a header and %d rows:\n%s", got, len(results), &table)
	}
	if !strings.Contains(log.String(), "bench signer/slow: starting") {
		t.Errorf("log does not announce the runs:\n%s", &log)
	}
}
