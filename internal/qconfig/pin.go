package qconfig

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// PinChange is what pinning did, or would do, to one provider's server_id.
type PinChange struct {
	// Provider is the provider's name.
	Provider string
	// Old is the previously pinned server_id (hex), empty if none was pinned.
	Old string
	// New is the server_id the provider reported (hex).
	New string
}

// Kind says what the change is: "pinned" (first time), "unchanged" or "changed".
func (c PinChange) Kind() string {
	switch {
	case c.Old == "":
		return "pinned"
	case c.Old == c.New:
		return "unchanged"
	default:
		return "changed"
	}
}

// ChangedIDError refuses to re-pin providers whose server_id differs from the one
// pinned: a new server key may mean a different server answering at that address,
// which is exactly what pinning is there to catch.
type ChangedIDError struct {
	// Changes lists every provider whose reported server_id differs from its pin.
	Changes []PinChange
}

func (e *ChangedIDError) Error() string {
	var b strings.Builder
	for i, c := range e.Changes {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "provider %q reports server_id %s but %s is pinned", c.Provider, c.New, c.Old)
	}
	b.WriteString(": refusing to re-pin; if the operator really replaced the server key, run `lss-quorum init --force`")
	return b.String()
}

// PinServerIDs decides the new pins from the server_ids the providers reported
// (by provider name; providers absent from reported are left as they are). It
// refuses, changing nothing, when a reported id differs from an existing pin unless
// force is set. It returns the changes in configuration order; c is updated only on
// success.
func (c *Config) PinServerIDs(reported map[string][]byte, force bool) ([]PinChange, error) {
	var changes, changed []PinChange
	for _, p := range c.Providers {
		id, ok := reported[p.Name]
		if !ok {
			continue
		}
		ch := PinChange{Provider: p.Name, Old: strings.ToLower(p.ServerID), New: hex.EncodeToString(id)}
		if err := ValidateServerID(ch.New); err != nil {
			return nil, fmt.Errorf("provider %q reported an unusable server_id: %w", p.Name, err)
		}
		if ch.Kind() == "changed" {
			changed = append(changed, ch)
		}
		changes = append(changes, ch)
	}
	if len(changed) > 0 && !force {
		return nil, &ChangedIDError{Changes: changed}
	}
	for i := range c.Providers {
		if id, ok := reported[c.Providers[i].Name]; ok {
			c.Providers[i].ServerID = hex.EncodeToString(id)
		}
	}
	return changes, nil
}

// CapabilityChange is what pinning did, or would do, to one provider's
// capability.
type CapabilityChange struct {
	// Provider is the provider's name.
	Provider string
	// Old is the previously pinned capability, empty if none was pinned.
	Old string
	// New is the capability the provider showed.
	New string
}

// ChangedCapabilityError refuses to re-pin providers whose capability differs
// from the one pinned. A provider pinned as speaking the extension that now
// answers like a stock server may be a man in the middle downgrading the client
// (atomic puts and the prefix-bound read would be lost without a word), so the
// change needs the operator's say.
type ChangedCapabilityError struct {
	// Changes lists every provider whose capability differs from its pin.
	Changes []CapabilityChange
}

func (e *ChangedCapabilityError) Error() string {
	var b strings.Builder
	for i, c := range e.Changes {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "provider %q answers as %s but is pinned as %s", c.Provider, c.New, c.Old)
	}
	b.WriteString(": refusing to re-pin; if the operator really changed the server, run `lss-quorum init --force`")
	return b.String()
}

// PinCapabilities decides the new capability pins from what the providers
// showed (by provider name: CapabilityExtension or CapabilityStock; providers
// absent from reported are left as they are). Like PinServerIDs it refuses,
// changing nothing, a capability that differs from an existing pin unless
// force is set; c is updated only on success. It returns the changes in
// configuration order.
func (c *Config) PinCapabilities(reported map[string]string, force bool) ([]CapabilityChange, error) {
	var changes, changed []CapabilityChange
	for _, p := range c.Providers {
		capability, ok := reported[p.Name]
		if !ok {
			continue
		}
		if capability != CapabilityExtension && capability != CapabilityStock {
			return nil, fmt.Errorf("provider %q: unknown capability %q", p.Name, capability)
		}
		ch := CapabilityChange{Provider: p.Name, Old: p.Capability, New: capability}
		if ch.Old != "" && ch.Old != ch.New {
			changed = append(changed, ch)
		}
		changes = append(changes, ch)
	}
	if len(changed) > 0 && !force {
		return nil, &ChangedCapabilityError{Changes: changed}
	}
	for i := range c.Providers {
		if capability, ok := reported[c.Providers[i].Name]; ok {
			c.Providers[i].Capability = capability
		}
	}
	return changes, nil
}
