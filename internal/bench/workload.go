package bench

import (
	"fmt"
	"strings"

	"github.com/lssquorum/lss/provider"
)

// Workload is what each writer does.
type Workload int

const (
	// WorkloadProvider is the provider-load workload: concurrent writers putting
	// transactions of LoadKeys keys with LoadValueSize-byte values, alternately
	// inserting new keys (version 0) and updating the previous transaction's keys
	// (version 1).
	WorkloadProvider Workload = iota
	// WorkloadSigner is the signer workload: one writer putting SignerKeys keys of
	// SignerValueSize bytes at their next version, sequentially, with a full get
	// of its prefix every Options.GetEvery puts.
	WorkloadSigner
)

// Sizes of the two workloads' transactions.
const (
	LoadKeys        = 64
	LoadValueSize   = 128
	SignerKeys      = 4
	SignerValueSize = 2048
)

// signerPrefix holds the signer's keys; its full get reads exactly them.
const signerPrefix = "signer/"

var workloadNames = map[Workload]string{WorkloadProvider: "provider", WorkloadSigner: "signer"}

// String names the workload as the command line spells it.
func (w Workload) String() string {
	if s, ok := workloadNames[w]; ok {
		return s
	}
	return fmt.Sprintf("workload(%d)", int(w))
}

// MarshalText writes the workload's name.
func (w Workload) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (w *Workload) UnmarshalText(b []byte) error {
	p, err := ParseWorkload(string(b))
	if err != nil {
		return err
	}
	*w = p
	return nil
}

// ParseWorkload is the inverse of Workload.String.
func ParseWorkload(s string) (Workload, error) {
	for w, name := range workloadNames {
		if name == s {
			return w, nil
		}
	}
	return 0, fmt.Errorf("unknown workload %q (want provider or signer)", s)
}

// ParseWorkloads parses a comma-separated list of workloads, refusing duplicates.
func ParseWorkloads(s string) ([]Workload, error) {
	var ws []Workload
	seen := make(map[Workload]bool)
	for part := range strings.SplitSeq(s, ",") {
		w, err := ParseWorkload(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if seen[w] {
			return nil, fmt.Errorf("workload %q listed twice", w)
		}
		seen[w] = true
		ws = append(ws, w)
	}
	return ws, nil
}

// itemsPerTx is the number of keys one transaction of the workload writes.
func (w Workload) itemsPerTx() int {
	if w == WorkloadSigner {
		return SignerKeys
	}
	return LoadKeys
}

// loadTx is round r of writer w in the provider-load workload: even rounds insert
// LoadKeys new keys at version 0, odd rounds update the previous round's keys to
// version 1. Values differ per writer, round and key so no write is a no-op.
func loadTx(w, r int) []provider.KV {
	keyRound, version := r, int64(0)
	if r%2 == 1 {
		keyRound, version = r-1, 1
	}
	kvs := make([]provider.KV, LoadKeys)
	for i := range kvs {
		kvs[i] = provider.KV{
			Key:     fmt.Sprintf("w%03d/r%06d/k%02d", w, keyRound, i),
			Version: version,
			Value:   fill(LoadValueSize, w, r, i),
		}
	}
	return kvs
}

// signerTx is the signer's n-th put (from 0): every key at version n, so the
// first put inserts them and each later put updates them to their next version.
func signerTx(n int) []provider.KV {
	kvs := make([]provider.KV, SignerKeys)
	for i := range kvs {
		kvs[i] = provider.KV{
			Key:     fmt.Sprintf("%sk%d", signerPrefix, i),
			Version: int64(n),
			Value:   fill(SignerValueSize, 0, n, i),
		}
	}
	return kvs
}

// fill returns size bytes that depend on (a, b, c).
func fill(size, a, b, c int) []byte {
	v := make([]byte, size)
	seed := uint32(a*7919 + b*104729 + c*31 + 1)
	for i := range v {
		// A xorshift step: cheap, and the values are not all one byte.
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		v[i] = byte(seed)
	}
	return v
}
