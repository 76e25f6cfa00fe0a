// Package bench measures the LSS providers and the quorum client under the two
// workloads that matter to a Lightning signer, in several deployment modes side by
// side, and reports throughput and latency percentiles.
//
// The provider-load workload is throughput-bound: Writers concurrent clients, each
// putting transactions of 64 keys with 128-byte values, alternately inserting new
// keys at version 0 and updating the previous transaction's keys to version 1.
// The signer workload is latency-bound: one client putting 4 keys of 2 KiB at
// their next version, one put after the other, with a full get of its prefix
// every few puts, as a signer persists its state before each signature.
//
// The modes are ModeOne (a single provider, through the provider client
// directly: the raw floor a deployment without a quorum pays), ModePlain and
// ModeAtomic (a quorum of three), ModeSlow (the atomic quorum of three with one
// provider slowed by 50 ms), ModeNoGroup (a single provider with group commit
// off, to show what group commit gains) and ModeNoEncrypt (the atomic quorum with
// value encryption off, to show what encryption costs).
//
// RunLocal starts a fresh testnet of real lssd servers for each mode, on the
// disk under Local.Dir, and connects the writers to the servers directly: the
// testnet's fault-injecting proxy is used only for the slowed provider, since
// copying every byte through it would cost more than what is being measured.
// Everything runs in one process, so on a small machine the servers and the
// clients share the same cores: a quorum of three does three times the server
// work on them.
//
// Guarantees: every writer has its own client key, so writers never conflict and
// every error counted is a real failure; each run is bounded by
// Options.MaxDuration, after which it stops and reports what it completed, marked
// Truncated; a testnet started for a mode is closed, and its data removed, before
// the next mode starts. The figures are measurements, not assertions: nothing here
// fails because a run was slow.
package bench
