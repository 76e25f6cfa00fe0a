package bench

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestWritePlot(t *testing.T) {
	results := []Result{
		{Workload: WorkloadSigner, Mode: ModePlain, ItemsPerSec: 1000, Put: Latency{P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 4 * time.Millisecond}},
		{Workload: WorkloadProvider, Mode: ModeAtomic, ItemsPerSec: 250, Errors: 1, Put: Latency{P50: 3 * time.Millisecond, P90: 5 * time.Millisecond, P99: 8 * time.Millisecond}},
	}
	var b strings.Builder
	if err := WritePlot(&b, results); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	// Well-formed XML.
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v\n%s", err, svg)
			}
			break
		}
	}
	for _, want := range []string{
		"signer / plain", "provider / atomic (1 errors)", "items/s (max 1000)", "max 8ms",
		`width="330.0" height="18" fill="#4c78a8"><title>1000.0 items/s`, // the largest fills its panel
		`width="82.5" height="18" fill="#4c78a8"><title>250.0 items/s`,
		`<title>p50 1ms</title>`, `<title>p99 8ms</title>`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("plot lacks %q:\n%s", want, svg)
		}
	}
}
