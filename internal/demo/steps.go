package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// steps is the demo after the network and the first client are up.
func (d *run) steps(ctx context.Context) error {
	rb, tp := d.net[rolledBack], d.net[tampered]

	d.section("Write the first round through the quorum")
	if err := d.put(ctx, firstRound); err != nil {
		return err
	}
	if err := d.settle(ctx); err != nil {
		return err
	}

	d.section(fmt.Sprintf("Take a snapshot of %s's data (for a rollback later)", rb.Name()))
	snap, err := rb.Snapshot()
	if err != nil {
		return err
	}
	d.printf("  %s's data directory copied; it holds the first round only.\n", rb.Name())

	d.section("Write the second round through the quorum")
	if err := d.put(ctx, secondRound); err != nil {
		return err
	}
	if err := d.settle(ctx); err != nil {
		return err
	}

	want := latest(firstRound, secondRound)
	d.section("Read everything back through the quorum")
	if _, err := d.get(ctx, want); err != nil {
		return err
	}
	if err := d.showNoPlaintext(firstRound, secondRound); err != nil {
		return err
	}

	d.section(fmt.Sprintf("Inject faults: roll %s back, tamper with a value on %s", rb.Name(), tp.Name()))
	if err := rb.Rollback(ctx, snap); err != nil {
		return err
	}
	d.printf("  %s: data directory replaced by the snapshot; it now serves the first round only,\n", rb.Name())
	d.printf("      with its real server key, as a provider restored from an old backup (or lying) would.\n")
	err = tp.Tamper(ctx, clientIDOf(d.key), tamperedKey, func(v []byte) []byte {
		v[0] ^= 0x01 // one bit of the stored value; the version is left alone
		return v
	})
	if err != nil {
		return err
	}
	d.printf("  %s: one bit of the stored value of %q flipped on disk, version unchanged.\n", tp.Name(), tamperedKey)

	d.section("Read through the quorum again")
	res, err := d.get(ctx, want)
	if err != nil {
		return err
	}
	d.printf("  The newest data is returned: %s's old versions lose the merge, and %s's reply\n", rb.Name(), tp.Name())
	d.printf("  fails verification, so all of its data is ignored. That leaves %s as the only\n", other(d, rb, tp))
	d.printf("  verified holder of the second round, hence \"ahead\": its versions still win, because\n")
	d.printf("  their value HMACs prove this client wrote them.\n")
	if err := checkRead(res, rb.Name(), tp.Name()); err != nil {
		return err
	}

	d.section("Audit: compare every provider")
	report, err := d.client.Audit(ctx, "demo/", quorum.AuditOptions{})
	if err != nil {
		return err
	}
	d.printf("%s", indent(report.Table()))
	if err := checkBeforeRepair(report, rb.Name(), tp.Name()); err != nil {
		return err
	}
	d.printf("  => %s is named ROLLED BACK (it holds less than it confirmed before) and BEHIND,\n", rb.Name())
	d.printf("     with its keys and versions; %s is named FAULTY with the tampered key and version.\n", tp.Name())

	d.section("Repair, then audit again")
	rep, err := d.client.Repair(ctx, "demo/")
	if err != nil {
		return err
	}
	for _, p := range rep.Providers {
		d.printf("  %s: %s\n", p.Name, repairSummary(p))
	}
	after, err := d.client.Audit(ctx, "demo/", quorum.AuditOptions{})
	if err != nil {
		return err
	}
	d.printf("%s", indent(after.Table()))
	if err := checkAfterRepair(after, tp.Name()); err != nil {
		return err
	}
	d.printf("  => %s is up to date again: the rollback is repaired.\n", rb.Name())

	d.section(fmt.Sprintf("What remains: the tampered value on %s", tp.Name()))
	d.printf("  %s still holds a bad value for %q at v%d. Repair uses Restore, which is\n", tp.Name(), tamperedKey, versionOf(want, tamperedKey))
	d.printf("  forward-only: a provider never accepts a version it already holds, so no one\n")
	d.printf("  (a faulty client or provider included) can make it go back or rewrite history.\n")
	d.printf("  The quorum is not at risk: that value fails its HMAC, so it is never returned.\n")
	d.printf("  What an operator should do:\n")
	d.printf("    1. Write the key's next version through the quorum (lss-quorum put %s %d <value>):\n", tamperedKey, versionOf(want, tamperedKey)+1)
	d.printf("       every provider accepts it, and the bad copy is replaced.\n")
	d.printf("    2. Find out why %s's storage changed; if it cannot be trusted, remove it from\n", tp.Name())
	d.printf("       the configuration and add a new provider (repair fills it).\n")

	d.section("Fix it: write the next version of the tampered key")
	fix := []provider.KV{{Key: tamperedKey, Version: versionOf(want, tamperedKey) + 1, Value: valueOf(want, tamperedKey)}}
	if err := d.put(ctx, fix); err != nil {
		return err
	}
	if err := d.settle(ctx); err != nil {
		return err
	}
	final, err := d.client.Audit(ctx, "demo/", quorum.AuditOptions{})
	if err != nil {
		return err
	}
	d.printf("%s", indent(final.Table()))
	if final.Verdict != quorum.Agree {
		return fmt.Errorf("after writing the next version the providers still disagree: %s", strings.Join(final.Problems, "; "))
	}

	d.section("Done")
	d.printf("  rolled back: %s -- detected (rolled back, behind), named with its keys, repaired\n", rb.Name())
	d.printf("  tampered:    %s -- detected (faulty), its data ignored; fixed by writing the next version\n", tp.Name())
	d.printf("  The quorum answered with the newest, verified data throughout.\n")
	return nil
}

// other names the provider that is neither rolled back nor tampered with.
func other(d *run, rb, tp *testnet.Provider) string {
	for _, p := range d.net {
		if p != rb && p != tp {
			return p.Name()
		}
	}
	return ""
}

// indent shifts a multi-line block right by two spaces.
func indent(s string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" && l != "\n" {
			b.WriteString("  ")
		}
		b.WriteString(l)
	}
	return b.String()
}

// repairSummary says in one line what repair did to a provider.
func repairSummary(p quorum.ProviderRepair) string {
	var parts []string
	for _, u := range p.Restored {
		from := "nothing"
		if u.From >= 0 {
			from = fmt.Sprintf("v%d", u.From)
		}
		parts = append(parts, fmt.Sprintf("restored %q %s -> v%d", u.Key, from, u.To))
	}
	for _, kv := range p.Kept {
		parts = append(parts, fmt.Sprintf("kept %q v%d (already as new)", kv.Key, kv.Version))
	}
	for _, u := range p.Unrepairable {
		parts = append(parts, fmt.Sprintf("cannot repair %q v%d -> v%d without Restore", u.Key, u.From, u.To))
	}
	if p.Error != "" {
		parts = append(parts, p.Error)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s, nothing to repair", p.Before)
	}
	return strings.Join(parts, "; ")
}

func versionOf(kvs []provider.KV, key string) int64 {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Version
		}
	}
	return -1
}

func valueOf(kvs []provider.KV, key string) []byte {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}
