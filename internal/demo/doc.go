// Package demo is the scripted tour that `lss-quorum demo` runs: on a fresh
// machine, with no configuration, it starts three local LSS providers, writes and
// reads through the quorum, rolls one provider back to an old snapshot and tampers
// with a value on another, and shows that the quorum still answers correctly, that
// the audit names both providers (with keys and versions), that repair fixes the
// rolled-back one, and what to do about the tampered value.
//
// Guarantees: Run checks every claim it prints (the merged data, each provider's
// status in the audit, the state after repair) and returns an error naming the
// first one that does not hold, so a successful Run is evidence the quorum works.
// It is deterministic: fixed keys, values and provider roles, the audit waits for
// every provider, and everything it starts is stopped and deleted before it
// returns.
package demo
