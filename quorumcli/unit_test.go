package quorumcli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lssquorum/lss/internal/buildinfo"
	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

func TestParsePutArgs(t *testing.T) {
	t.Parallel()
	kvs, err := ParsePutArgs([]string{"b", "1", "0xbeef", "a", "0", "", "c", "7", "00FF"})
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.KV{{Key: "a", Version: 0, Value: []byte{}}, {Key: "b", Version: 1, Value: []byte{0xbe, 0xef}}, {Key: "c", Version: 7, Value: []byte{0, 0xff}}}
	if fmt.Sprint(kvs) != fmt.Sprint(want) {
		t.Errorf("kvs = %v, want %v (sorted by key)", kvs, want)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"triples", "0 argument"}},
		{[]string{"a", "0"}, []string{"triples", "2 argument"}},
		{[]string{"", "0", "00"}, []string{"key-value 1", "empty key"}},
		{[]string{"a", "0", "00", "a", "1", "00"}, []string{"key-value 2", `"a"`, "key-value 1"}},
		{[]string{"a", "x", "00"}, []string{`key "a"`, `version "x"`}},
		{[]string{"a", "-1", "00"}, []string{`version "-1"`, "non-negative"}},
		// The last version has no successor: lssd refuses it, so does the client.
		{[]string{"a", "9223372036854775807", "00"}, []string{`version "9223372036854775807"`, "up to 9223372036854775806"}},
		{[]string{"a\xff", "0", "00"}, []string{"key-value 1", "not valid UTF-8"}},
		{[]string{"a", "0", "00", "b", "0", "zz"}, []string{"key-value 2", `key "b"`, `"zz" is not hex`}},
		{[]string{"a", "0", "abc"}, []string{`"abc" is not hex`}},
	} {
		_, err := ParsePutArgs(tc.args)
		if err == nil {
			t.Errorf("%q: accepted", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not mention %q", tc.args, err, w)
			}
		}
	}
}

func TestAuditOutcome(t *testing.T) {
	t.Parallel()
	agree := &quorum.AuditReport{Verdict: quorum.Agree}
	disagree := &quorum.AuditReport{Verdict: quorum.Disagree, Problems: []string{"p1 is BEHIND"}}
	rolled := &quorum.AuditReport{Verdict: quorum.Disagree, RolledBack: []quorum.KeyRollback{{Key: "a", Watermark: 2, Merged: 1}}, Problems: []string{"ROLLBACK"}}
	repaired := func(after *quorum.AuditReport) *quorum.AuditReport {
		return &quorum.AuditReport{Verdict: quorum.Disagree, Problems: []string{"x"}, Repair: &quorum.RepairReport{}, After: after}
	}
	for _, tc := range []struct {
		name   string
		report *quorum.AuditReport
		code   int
	}{
		{"agree", agree, ExitOK},
		{"disagree", disagree, ExitDisagree},
		{"rollback", rolled, ExitRollback},
		{"repaired, agree after", repaired(agree), ExitOK},
		{"repaired, still disagree", repaired(disagree), ExitDisagree},
		{"repaired, still rolled back", repaired(rolled), ExitRollback},
		{"repair without an audit after it", repaired(nil), ExitFailure},
	} {
		if got := ExitCode(AuditOutcome(tc.report)); got != tc.code {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.code)
		}
	}
	if err := AuditOutcome(repaired(disagree)); !strings.Contains(err.Error(), "after the repair") {
		t.Errorf("error %q should say the disagreement is after the repair", err)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitFailure},
		{usagef("bad"), ExitUsage},
		{fmt.Errorf("wrapped: %w", usagef("bad")), ExitUsage},
		{&quorum.RollbackError{Prefix: "a"}, ExitRollback},
		{&quorum.QuorumError{Op: "get"}, ExitFailure},
		{&disagreeError{"x"}, ExitDisagree},
	} {
		if got := ExitCode(tc.err); got != tc.code {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

func TestDescribeState(t *testing.T) {
	t.Parallel()
	behind := quorum.ProviderState{Name: "p2", Status: quorum.Behind, Keys: 2,
		Behind:  []quorum.KeyComparison{{Key: "a", Version: 0, Others: 1}},
		Missing: []quorum.KeyComparison{{Key: "c", Version: -1, Others: 0}}}
	behind.RolledBack = []quorum.KeyLoss{{Key: "a", Confirmed: 1, Held: 0}, {Key: "c", Confirmed: 0, Held: -1}}
	got := DescribeState(behind)
	for _, w := range []string{"2 key(s)", `behind: "a": holds v0, others v1`, `missing: "c": holds nothing, others v0`,
		`ROLLED BACK: "a" confirmed v1, now v0, "c" confirmed v0, now nothing`} {
		if !strings.Contains(got, w) {
			t.Errorf("DescribeState = %q, want %q in it", got, w)
		}
	}
	faulty := quorum.ProviderState{Name: "p1", Status: quorum.Faulty, Tampered: []quorum.KeyComparison{{Key: "b", Version: 3}}, Err: errors.New("provider p1: get: value HMAC mismatch")}
	got = DescribeState(faulty)
	if strings.Contains(got, "key(s)") || !strings.Contains(got, `tampered: "b"`) || !strings.Contains(got, "value HMAC mismatch") {
		t.Errorf("DescribeState(faulty) = %q", got)
	}
	var b bytes.Buffer
	WriteProviderStates(&b, []quorum.ProviderState{behind, faulty})
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "p2") || !strings.Contains(lines[1], "faulty") {
		t.Errorf("WriteProviderStates =\n%s", b.String())
	}
}

func TestWriteEntries(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	WriteEntries(&b, nil)
	if b.String() != "no keys\n" {
		t.Errorf("no entries: %q", b.String())
	}
	b.Reset()
	WriteEntries(&b, []provider.Entry{{Key: "k", Version: 4, Value: []byte{0xca, 0xfe}}})
	if !strings.Contains(b.String(), "k") || !strings.Contains(b.String(), "4") || !strings.Contains(b.String(), "cafe") {
		t.Errorf("entries: %q", b.String())
	}
}

func TestTestnetConfig(t *testing.T) {
	t.Parallel()
	idA := bytes.Repeat([]byte{2}, 1)
	idA = append(idA, bytes.Repeat([]byte{0x46}, 32)...)
	ps := []testnetProvider{{Name: "p0", Addr: "127.0.0.1:1", ServerID: idA}}
	old := qconfig.New("/x/config.json")
	old.ClientKey, old.Watermark, old.W = "keys/k", "wm.json", 1
	cfg := testnetConfig("/x/config.json", old, "/tmp/net", ps)
	if cfg.ClientKey != "keys/k" || cfg.Watermark != "wm.json" || cfg.W != 0 || cfg.TestnetDir != "/tmp/net" {
		t.Errorf("config = %+v: want the old key and watermark paths kept, quorum sizes reset", cfg)
	}
	if len(cfg.Providers) != 1 || cfg.Providers[0].ServerID != fmt.Sprintf("%x", idA) {
		t.Errorf("providers = %+v", cfg.Providers)
	}

	moved := testnetConfig("/x/config.json", nil, "/tmp/net", []testnetProvider{{Name: "p0", Addr: "127.0.0.1:2", ServerID: idA}})
	if !sameServers(cfg, moved) {
		t.Error("a provider on a new port with the same server_id is the same server")
	}
	idB := append([]byte{3}, idA[1:]...)
	other := testnetConfig("/x/config.json", nil, "/tmp/net", []testnetProvider{{Name: "p0", Addr: "127.0.0.1:1", ServerID: idB}})
	if sameServers(cfg, other) {
		t.Error("a new server_id is a new server")
	}
	more := testnetConfig("/x/config.json", nil, "/tmp/net", append(ps, testnetProvider{Name: "p1", Addr: "127.0.0.1:3", ServerID: idB}))
	if sameServers(cfg, more) {
		t.Error("a different number of providers is a different network")
	}
}

func TestWriteRecovery(t *testing.T) {
	t.Parallel()
	report := &quorum.RecoveryReport{
		Transactions: []quorum.TxRecovery{{
			TxStatus: quorum.TxStatus{TxID: bytes.Repeat([]byte{0xab}, 32), Keys: []string{"a", "b"}, Decision: quorum.DecidedCommit},
			Before:   map[string]quorum.TxView{"p1": quorum.TxNone, "p0": quorum.TxPrepared},
			Actions:  []string{"p1: fence ok", "p0: commit ok"},
			Settled:  true,
		}},
		Unreachable: map[string]string{"p2": "connection refused"},
		BaseOnly:    []string{"p3"},
	}
	var b bytes.Buffer
	if err := WriteRecovery(&b, report, false, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"1 transaction(s) were left prepared",
		"tx abababababababab…  keys a, b  decision: commit, settled",
		"held: p0 prepared, p1 none",
		"p0: commit ok",
		"unreachable: p2: connection refused",
		"base protocol only (no transactions to settle): p3",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	// p0..p2 speak the extension, p3 is stock.
	if err := recoveryOutcome(report, false, 3); ExitCode(err) != ExitDisagree || !strings.Contains(err.Error(), "p2 could not be asked") {
		t.Errorf("a settled recovery with p2 unreachable: %v; want exit 3 naming p2 (what p2 holds is unknown)", err)
	}
	reached := *report
	reached.Unreachable = nil
	if err := recoveryOutcome(&reached, false, 3); err != nil {
		t.Errorf("a settled recovery: %v", err)
	}
	if ExitCode(recoveryOutcome(&reached, true, 3)) != ExitDisagree {
		t.Error("a dry run that finds pending transactions must exit 3")
	}
	reached.Transactions = []quorum.TxRecovery{report.Transactions[0]}
	reached.Transactions[0].Settled = false
	if ExitCode(recoveryOutcome(&reached, false, 3)) != ExitDisagree {
		t.Error("an unsettled transaction must exit 3")
	}
	if err := recoveryOutcome(&quorum.RecoveryReport{}, true, 3); err != nil {
		t.Errorf("nothing pending: %v", err)
	}
	none := &quorum.RecoveryReport{Unreachable: map[string]string{"p0": "refused", "p1": "refused"}}
	if err := recoveryOutcome(none, false, 2); ExitCode(err) != ExitFailure || !strings.Contains(err.Error(), "could not run") {
		t.Errorf("no provider answered: %v; want exit 1, recovery could not run", err)
	}
	b.Reset()
	if err := WriteRecovery(&b, none, false, false); err != nil || !strings.Contains(b.String(), "no transaction is left prepared on the providers that answered") {
		t.Errorf("with providers unreachable, recover must not claim that nothing is left prepared: %v\n%s", err, b.String())
	}
}

func TestVersionAndUsageLine(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"--version"}, &out, &errOut); code != ExitOK || out.String() != buildinfo.String("lss-quorum") {
		t.Fatalf("--version: %d %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	code := Main(context.Background(), []string{"put", "k"}, &out, &errOut)
	if code != ExitUsage || !strings.Contains(errOut.String(), "usage: lss-quorum put KEY VERSION HEXVALUE") {
		t.Fatalf("put k: %d %q; want %d and the usage line", code, errOut.String(), ExitUsage)
	}
}

func TestIndeterminatePutHasItsOwnStatusAndNamesTheCommand(t *testing.T) {
	txErr := &quorum.TxError{TxID: []byte{1, 2}, Indeterminate: true, Decision: quorum.Undecided, Need: 2, Prepared: 1}
	err := forCommandLine(fmt.Errorf("put: %w", txErr))
	if ExitCode(err) != ExitIndeterminate {
		t.Errorf("ExitCode = %d, want %d", ExitCode(err), ExitIndeterminate)
	}
	msg := err.Error()
	if !strings.Contains(msg, "run `lss-quorum recover` to settle it") || strings.Contains(msg, "run Recover") {
		t.Errorf("message %q should name the command, not the method", msg)
	}
	// A definite abort stays a plain failure.
	if code := ExitCode(forCommandLine(&quorum.TxError{Need: 2})); code != ExitFailure {
		t.Errorf("aborted put: ExitCode = %d, want %d", code, ExitFailure)
	}
	var b bytes.Buffer
	if err := WritePutJSON(&b, []provider.KV{{Key: "k", Version: 3, Value: []byte{0xab}}}, 2, &quorum.PutResult{Mode: quorum.ModeAtomic, TxID: []byte{1, 2}}, err); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"outcome": "indeterminate"`, `"txid": "0102"`, `"stored": [`, `"value": "ab"`, `"version": 3`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("put JSON lacks %s:\n%s", want, b.String())
		}
	}
}

func TestWriteWatermarksCountsTheAborts(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	WriteWatermarks(&b, quorum.Watermarks{})
	if strings.Contains(b.String(), "aborted") {
		t.Errorf("no aborts: %q", b.String())
	}
	b.Reset()
	WriteWatermarks(&b, quorum.Watermarks{Aborted: map[string]int64{"0a0b": 1, "0c0d": 2}})
	if !strings.Contains(b.String(), "2 transaction(s) this client decided aborted") {
		t.Errorf("two aborts: %q", b.String())
	}
}
