package qconfig

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/lssquorum/lss/internal/endpoint"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/quorum"
)

// Validate checks every field and returns the first problem, naming the field and,
// for a provider's field, the provider by name and index.
func (c *Config) Validate() error {
	if len(c.Providers) == 0 {
		return errors.New(`"providers": at least one provider is required`)
	}
	seen := make(map[string]int, len(c.Providers))
	// One server listed twice would count twice towards W and R: by address,
	// and once pinned by server_id (which also catches two addresses of one
	// server).
	addrs := make(map[string]int, len(c.Providers))
	ids := make(map[string]int, len(c.Providers))
	for i, p := range c.Providers {
		if err := p.validate(); err != nil {
			return fmt.Errorf("%s: %w", providerLabel(i, p.Name), err)
		}
		if j, dup := seen[p.Name]; dup {
			return fmt.Errorf("%s: \"name\": %q is also the name of providers[%d]; names must be unique", providerLabel(i, p.Name), p.Name, j)
		}
		seen[p.Name] = i
		ep, _ := endpoint.Parse(p.Addr) // p.validate checked it
		addr := strings.ToLower(ep.HostPort)
		if j, dup := addrs[addr]; dup {
			return fmt.Errorf("%s: \"addr\": %s is also the address of providers[%d]; one server cannot count twice towards a quorum", providerLabel(i, p.Name), p.Addr, j)
		}
		addrs[addr] = i
		if p.ServerID != "" {
			id := strings.ToLower(p.ServerID)
			if j, dup := ids[id]; dup {
				return fmt.Errorf("%s: \"server_id\": %s is also pinned for providers[%d]: the two are one server, which cannot count twice towards a quorum", providerLabel(i, p.Name), p.ServerID, j)
			}
			ids[id] = i
		}
	}
	n := len(c.Providers)
	if c.W < 0 || c.W > n {
		return fmt.Errorf(`"w": %d is out of range: want 1..%d (the number of providers), or 0 for a majority`, c.W, n)
	}
	if c.R < 0 || c.R > n {
		return fmt.Errorf(`"r": %d is out of range: want 1..%d (the number of providers), or 0 for a majority`, c.R, n)
	}
	if w, r := c.Quorum(); w+r <= n {
		return fmt.Errorf(`"w" + "r" must exceed the number of providers so that every read meets every write: w=%d r=%d n=%d`, w, r, n)
	}
	if c.Timeout < 0 {
		return fmt.Errorf(`"timeout": must be positive, got %s`, c.Timeout.String())
	}
	if c.Mode != "" {
		if _, err := quorum.ParseMode(c.Mode); err != nil {
			return fmt.Errorf(`"mode": %v`, err)
		}
	}
	if c.Grace < 0 {
		return fmt.Errorf(`"grace": must not be negative, got %s`, c.Grace.String())
	}
	return nil
}

// providerLabel names a provider in errors: by index always, since the name itself
// may be the thing that is wrong.
func providerLabel(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("providers[%d]", i)
	}
	return fmt.Sprintf("provider %q (providers[%d])", name, i)
}

func (p Provider) validate() error {
	if p.Name == "" {
		return errors.New(`"name": required`)
	}
	if p.Addr == "" {
		return errors.New(`"addr": required (host:port, http://host:port or https://host:port)`)
	}
	ep, err := endpoint.Parse(p.Addr)
	if err != nil {
		return fmt.Errorf(`"addr": %v`, err)
	}
	// http:// says plaintext, "tls" says TLS: refused here, naming both fields,
	// rather than at every dial as an unreachable provider.
	if p.TLS != nil && !ep.TLS && strings.HasPrefix(p.Addr, "http://") {
		return fmt.Errorf(`"tls" is set but "addr" %q is plaintext http://: use https:// (or host:port) for TLS, or remove "tls"`, p.Addr)
	}
	if p.ServerID != "" {
		if err := ValidateServerID(p.ServerID); err != nil {
			return fmt.Errorf(`"server_id": %w`, err)
		}
	}
	switch p.Capability {
	case "", CapabilityExtension, CapabilityStock:
	default:
		return fmt.Errorf(`"capability": %q: want %q or %q (or leave it out until `+"`lss-quorum init`"+` pins it)`,
			p.Capability, CapabilityExtension, CapabilityStock)
	}
	if p.TLS != nil {
		if (p.TLS.Cert == "") != (p.TLS.Key == "") {
			return errors.New(`"tls": "cert" and "key" go together: set both for mutual TLS, or neither`)
		}
	}
	return nil
}

// ValidateServerID checks that s is the hex of a valid 33-byte compressed public key.
func ValidateServerID(s string) error {
	b, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%q is not hex: %v", s, err)
	}
	if _, err := wire.ParsePublicKey(b); err != nil {
		return err
	}
	return nil
}

// RequirePinned returns an error naming the first provider whose server_id is not
// pinned yet: every command that talks to the quorum needs them all.
func (c *Config) RequirePinned() error {
	for i, p := range c.Providers {
		if p.ServerID == "" {
			return fmt.Errorf("config %s: %s: \"server_id\" is not pinned yet: run `lss-quorum init` first", c.path, providerLabel(i, p.Name))
		}
	}
	return nil
}
