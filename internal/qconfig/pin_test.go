package qconfig

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pinConfig() *Config {
	return &Config{Providers: []Provider{
		{Name: "a", Addr: "127.0.0.1:1", ServerID: serverA},
		{Name: "b", Addr: "127.0.0.1:2"},
		{Name: "c", Addr: "127.0.0.1:3", ServerID: serverA},
	}}
}

func TestPinServerIDs(t *testing.T) {
	t.Parallel()
	cfg := pinConfig()
	changes, err := cfg.PinServerIDs(map[string][]byte{"a": mustHex(t, serverA), "b": mustHex(t, serverB)}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Kind() != "unchanged" || changes[1].Kind() != "pinned" {
		t.Fatalf("changes = %+v", changes)
	}
	if cfg.Providers[1].ServerID != serverB || cfg.Providers[2].ServerID != serverA {
		t.Errorf("providers after pin = %+v", cfg.Providers)
	}
}

func TestPinRefusesAChangedID(t *testing.T) {
	t.Parallel()
	cfg := pinConfig()
	_, err := cfg.PinServerIDs(map[string][]byte{"b": mustHex(t, serverB), "c": mustHex(t, serverB)}, false)
	var changed *ChangedIDError
	if !errors.As(err, &changed) || len(changed.Changes) != 1 || changed.Changes[0].Provider != "c" {
		t.Fatalf("err = %v, want a ChangedIDError naming c", err)
	}
	for _, w := range []string{`provider "c"`, serverB, serverA, "--force"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if cfg.Providers[1].ServerID != "" || cfg.Providers[2].ServerID != serverA {
		t.Errorf("a refused pin changed the config: %+v", cfg.Providers)
	}

	changes, err := cfg.PinServerIDs(map[string][]byte{"c": mustHex(t, serverB)}, true)
	if err != nil || len(changes) != 1 || changes[0].Kind() != "changed" || cfg.Providers[2].ServerID != serverB {
		t.Errorf("forced re-pin: %+v, %v, config %+v", changes, err, cfg.Providers)
	}
}

func TestPinRefusesAnInvalidID(t *testing.T) {
	t.Parallel()
	cfg := pinConfig()
	if _, err := cfg.PinServerIDs(map[string][]byte{"b": {1, 2, 3}}, true); err == nil || !strings.Contains(err.Error(), `provider "b"`) {
		t.Errorf("err = %v", err)
	}
}

func TestPinCapabilities(t *testing.T) {
	t.Parallel()
	cfg := pinConfig()
	cfg.Providers[0].Capability = CapabilityExtension
	changes, err := cfg.PinCapabilities(map[string]string{"a": CapabilityExtension, "b": CapabilityStock}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[1] != (CapabilityChange{Provider: "b", New: CapabilityStock}) {
		t.Fatalf("changes = %+v", changes)
	}
	if !cfg.Providers[1].Stock() || cfg.Providers[0].Stock() || cfg.Providers[2].Capability != "" {
		t.Errorf("providers after pin = %+v", cfg.Providers)
	}
	if _, err := cfg.PinCapabilities(map[string]string{"c": "fancy"}, false); err == nil || !strings.Contains(err.Error(), `"fancy"`) {
		t.Errorf("an unknown capability: err = %v", err)
	}
}

// A provider pinned as speaking the extension that now answers like a stock
// server is a possible downgrade: refused without --force, nothing changed.
func TestPinRefusesADowngrade(t *testing.T) {
	t.Parallel()
	cfg := pinConfig()
	cfg.Providers[0].Capability = CapabilityExtension
	_, err := cfg.PinCapabilities(map[string]string{"a": CapabilityStock, "b": CapabilityStock}, false)
	var changed *ChangedCapabilityError
	if !errors.As(err, &changed) || len(changed.Changes) != 1 || changed.Changes[0].Provider != "a" {
		t.Fatalf("err = %v, want a ChangedCapabilityError naming a", err)
	}
	for _, w := range []string{`provider "a"`, "answers as stock", "pinned as extension", "--force"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if cfg.Providers[0].Capability != CapabilityExtension || cfg.Providers[1].Capability != "" {
		t.Errorf("a refused pin changed the config: %+v", cfg.Providers)
	}
	if _, err := cfg.PinCapabilities(map[string]string{"a": CapabilityStock}, true); err != nil || !cfg.Providers[0].Stock() {
		t.Errorf("forced re-pin: err %v, providers %+v", err, cfg.Providers)
	}
}
