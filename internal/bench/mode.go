package bench

import (
	"fmt"
	"strings"
	"time"
)

// Mode is a deployment measured by a run.
type Mode int

const (
	// ModeOne is one provider, written through the provider client directly.
	ModeOne Mode = iota
	// ModePlain is a quorum of three providers written with the base protocol.
	ModePlain
	// ModeAtomic is a quorum of three providers written with the atomic commit.
	ModeAtomic
	// ModeSlow is ModeAtomic with one of the three providers slowed by
	// SlowLatency.
	ModeSlow
	// ModeNoGroup is ModeOne with the provider's group commit turned off.
	ModeNoGroup
	// ModeNoEncrypt is ModeAtomic with the quorum client's value encryption
	// turned off (quorum.Config.DisableEncryption), to show what encryption costs.
	ModeNoEncrypt
)

// SlowLatency is the delay the slowed provider of ModeSlow adds (testnet's
// SetLatency, in each direction).
const SlowLatency = 50 * time.Millisecond

// AllModes lists every mode in the order a comparison prints them.
var AllModes = []Mode{ModeOne, ModePlain, ModeAtomic, ModeSlow, ModeNoGroup, ModeNoEncrypt}

var modeNames = map[Mode]string{
	ModeOne: "one", ModePlain: "plain", ModeAtomic: "atomic", ModeSlow: "slow", ModeNoGroup: "nogroup", ModeNoEncrypt: "noencrypt",
}

// String names the mode as the command line spells it.
func (m Mode) String() string {
	if s, ok := modeNames[m]; ok {
		return s
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// MarshalText writes the mode's name, so JSON results carry "atomic", not 2.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (m *Mode) UnmarshalText(b []byte) error {
	p, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = p
	return nil
}

// ParseMode is the inverse of Mode.String.
func ParseMode(s string) (Mode, error) {
	for _, m := range AllModes {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown mode %q (want one, plain, atomic, slow, nogroup or noencrypt)", s)
}

// ParseModes parses a comma-separated list of modes, refusing an empty list and
// duplicates, and returns them in the order given.
func ParseModes(s string) ([]Mode, error) {
	var modes []Mode
	seen := make(map[Mode]bool)
	for part := range strings.SplitSeq(s, ",") {
		m, err := ParseMode(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if seen[m] {
			return nil, fmt.Errorf("mode %q listed twice", m)
		}
		seen[m] = true
		modes = append(modes, m)
	}
	return modes, nil
}

// providers is the number of providers the mode uses.
func (m Mode) providers() int {
	if m == ModeOne || m == ModeNoGroup {
		return 1
	}
	return 3
}

// quorum reports whether the mode writes through the quorum client.
func (m Mode) quorum() bool { return m.providers() > 1 }
