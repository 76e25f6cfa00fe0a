package demo

import (
	"fmt"
	"slices"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/quorum"
)

// The checks below turn the demo's claims into errors when they do not hold.
// They are pure functions of what the quorum client reported.

func clientIDOf(key *secp256k1.PrivateKey) []byte { return wire.PublicID(key) }

// checkRead: after the faults, a read names the rolled-back provider as rolled back
// and the tampered one as faulty.
func checkRead(res *quorum.GetResult, rolled, tampered string) error {
	if s, ok := res.Provider(rolled); !ok || s.Status != quorum.RolledBack || len(s.RolledBack) != len(wantBehind()) {
		return fmt.Errorf("the read did not report %s as rolled back on %d keys (got %v, rolled back %v)", rolled, len(wantBehind()), s.Status, s.RolledBack)
	}
	if s, ok := res.Provider(tampered); !ok || s.Status != quorum.Faulty {
		return fmt.Errorf("the read did not report %s as faulty (got %v)", tampered, s.Status)
	}
	for _, s := range res.Providers {
		if s.Name != rolled && s.Name != tampered && s.Status != quorum.Ahead {
			return fmt.Errorf("the read reported %s as %v, want ahead", s.Name, s.Status)
		}
	}
	return nil
}

// wantBehind is what the rolled-back provider misses: the second round, by key,
// with the version it still holds (-1: absent).
func wantBehind() map[string]int64 {
	out := map[string]int64{}
	for _, kv := range secondRound {
		out[kv.Key] = kv.Version - 1
	}
	return out
}

// checkBeforeRepair: the audit names the rolled-back provider as rolled back (and
// behind), on exactly the second round's keys, with the versions it holds
// and the newer ones it confirmed before, the tampered provider as faulty on the tampered key, and the third
// provider as ahead on the second round's keys.
func checkBeforeRepair(r *quorum.AuditReport, rolled, tampered string) error {
	if r.Verdict != quorum.Disagree {
		return fmt.Errorf("the audit says %q, want %q", r.Verdict, quorum.Disagree)
	}
	for _, p := range r.Providers {
		switch p.Name {
		case rolled:
			if p.Status != quorum.RolledBack {
				return fmt.Errorf("the audit reports %s as %v, want rolled back", p.Name, p.Status)
			}
			got := map[string]int64{}
			for _, kv := range slices.Concat(p.Behind, p.Missing) {
				got[kv.Key] = kv.Version
				want, ok := wantBehind()[kv.Key]
				if !ok || kv.Version != want || kv.Others != want+1 {
					return fmt.Errorf("the audit reports %s behind on %v; want the second round's keys one version back", p.Name, kv)
				}
			}
			if len(got) != len(wantBehind()) {
				return fmt.Errorf("the audit reports %s behind on %d key(s), want %d", p.Name, len(got), len(wantBehind()))
			}
			// It confirmed the second round before, so it is named as rolled
			// back, not merely lagging.
			if len(p.RolledBack) != len(wantBehind()) {
				return fmt.Errorf("the audit reports %s rolled back on %v, want the second round's keys", p.Name, p.RolledBack)
			}
			for _, kl := range p.RolledBack {
				if want, ok := wantBehind()[kl.Key]; !ok || kl.Held != want || kl.Confirmed != want+1 {
					return fmt.Errorf("the audit reports %s rolled back on %+v; want the second round's keys, confirmed one version above what it holds", p.Name, kl)
				}
			}
		case tampered:
			if p.Status != quorum.Faulty || len(p.Tampered) != 1 || p.Tampered[0].Key != tamperedKey {
				return fmt.Errorf("the audit reports %s as %v with tampered keys %v, want faulty on %q", p.Name, p.Status, p.Tampered, tamperedKey)
			}
		default:
			// With one provider behind and one ignored as faulty, the last one is
			// the only verified holder of the second round: ahead, on those keys.
			if p.Status != quorum.Ahead || len(p.Ahead) != len(wantBehind()) {
				return fmt.Errorf("the audit reports %s as %v ahead on %v, want ahead on the second round's keys", p.Name, p.Status, p.Ahead)
			}
		}
	}
	return nil
}

// checkAfterRepair: every provider is up to date except the tampered one, which
// forward-only repair cannot fix.
func checkAfterRepair(r *quorum.AuditReport, tampered string) error {
	for _, p := range r.Providers {
		want := quorum.UpToDate
		if p.Name == tampered {
			want = quorum.Faulty
		}
		if p.Status != want {
			return fmt.Errorf("after repair the audit reports %s as %v, want %v", p.Name, p.Status, want)
		}
	}
	return nil
}
