package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseDatabases(t *testing.T) {
	t.Parallel()
	got, err := ParseDatabases("pebble, bolt")
	if err != nil || len(got) != 2 || got[0] != "pebble" || got[1] != "bolt" {
		t.Fatalf("ParseDatabases = %v, %v", got, err)
	}
	for in, want := range map[string]string{"": `unknown database ""`, "mongo": `"mongo"`, "bolt,bolt": "twice"} {
		if _, err := ParseDatabases(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDatabases(%q) = %v, want an error naming %s", in, err, want)
		}
	}
}

// TestCompareByDatabase checks that each run is compared with the one-provider
// run on its own database, that targets are checked per database and named by
// it, and that the table gets a database column.
func TestCompareByDatabase(t *testing.T) {
	t.Parallel()
	lat := func(p50 time.Duration) Latency { return Latency{Count: 1, P50: p50, P90: p50, P99: p50, Max: p50} }
	results := Compare([]Result{
		{Workload: WorkloadSigner, Mode: ModeOne, Database: "bolt", ItemsPerSec: 100, Put: lat(2 * time.Millisecond)},
		{Workload: WorkloadSigner, Mode: ModeOne, Database: "pebble", ItemsPerSec: 200, Put: lat(time.Millisecond)},
		{Workload: WorkloadSigner, Mode: ModeAtomic, Database: "bolt", ItemsPerSec: 50, Put: lat(6 * time.Millisecond)},
		{Workload: WorkloadSigner, Mode: ModeAtomic, Database: "pebble", ItemsPerSec: 100, Put: lat(2 * time.Millisecond)},
	})
	if v := results[2].Versus; v == nil || v.PutP50 != 3 || v.ItemsPerSec != 0.5 {
		t.Errorf("bolt atomic vs bolt one: %+v, want p50 3×, items 0.5×", v)
	}
	if v := results[3].Versus; v == nil || v.PutP50 != 2 || v.ItemsPerSec != 0.5 {
		t.Errorf("pebble atomic vs pebble one: %+v, want p50 2×, items 0.5×", v)
	}
	vs := Targets(results)
	met := map[string]bool{}
	for _, v := range vs {
		met[v.Target] = v.Met
	}
	if m, ok := met["signer: atomic put p50 ≤ 2.50× one [bolt]"]; !ok || m {
		t.Errorf("bolt signer target: %v, want present and missed (3×): %+v", m, vs)
	}
	if m, ok := met["signer: atomic put p50 ≤ 2.50× one [pebble]"]; !ok || !m {
		t.Errorf("pebble signer target: %v, want present and met (2×): %+v", m, vs)
	}
	var out bytes.Buffer
	if err := WriteTable(&out, results, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || strings.Fields(lines[0])[0] != "database" || strings.Fields(lines[4])[0] != "pebble" {
		t.Errorf("table without a database column:\n%s", &out)
	}

	// One database: no column, targets unnamed.
	out.Reset()
	if err := WriteTable(&out, results[:1], false); err != nil || strings.Contains(out.String(), "database") {
		t.Errorf("one database printed a database column (%v):\n%s", err, &out)
	}
}
