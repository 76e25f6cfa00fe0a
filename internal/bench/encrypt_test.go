package bench

import (
	"testing"
	"time"
)

// The signer's atomic put (values encrypted) is held to 1.25× the same put with
// encryption off.
func TestEncryptionTarget(t *testing.T) {
	t.Parallel()
	lat := func(p50 time.Duration) Latency { return Latency{Count: 1, P50: p50, P90: p50, P99: p50, Max: p50} }
	for _, tc := range []struct {
		atomic time.Duration
		met    bool
	}{{1100 * time.Microsecond, true}, {1400 * time.Microsecond, false}} {
		vs := Targets([]Result{
			{Workload: WorkloadSigner, Mode: ModeAtomic, Put: lat(tc.atomic)},
			{Workload: WorkloadSigner, Mode: ModeNoEncrypt, Put: lat(time.Millisecond)},
		})
		if len(vs) != 1 || vs[0].Target != "signer: atomic put p50 ≤ 1.25× noencrypt" || vs[0].Met != tc.met {
			t.Errorf("atomic p50 %v against noencrypt 1ms: %+v, want met=%v", tc.atomic, vs, tc.met)
		}
	}
	if m, err := ParseMode("noencrypt"); err != nil || m != ModeNoEncrypt {
		t.Errorf("ParseMode(noencrypt) = %v, %v", m, err)
	}
}
