package quorumcli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/quorum"
)

func newRecoverCommand(g *globals) *cobra.Command {
	var dryRun, asJSON, young bool
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Settle atomic puts left prepared by a coordinator that stopped",
		Long: `recover reads every provider's transaction records and settles the atomic puts
left prepared (a coordinator crashed or lost contact mid-commit, or a put
reported an indeterminate outcome): it fences providers without a record, then
commits or aborts each transaction by the decision rule. It is safe at any time,
even while other clients write, and running it twice changes nothing more.

Transactions younger than a coordinator's deadline (four call timeouts, from the
time in the txid) are left alone and listed: the signer that started them may
still be deciding them, and a fence now would abort its put. --young settles them
too (only when no coordinator can be running).

--dry-run lists the pending transactions and the decision the rule draws now,
changing nothing. --json prints the report as JSON.

Exit status 0 when no transaction is left prepared (young ones aside); 3 when
some remain (too few providers answered to decide them) or a provider could not
be asked (what it holds prepared is unknown): run recover again when they are
up; 1 when recovery could not run (no provider answered).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Not quorum.Open: its recovery at start would ignore --dry-run
			// and --young; this command runs the one recovery it reports.
			s, err := g.openSession(cmd.Context(), sessionMode{})
			if err != nil {
				return err
			}
			var report *quorum.RecoveryReport
			if dryRun {
				var read *quorum.TxReport
				read, err = s.client.Transactions(cmd.Context())
				if read != nil {
					report = &quorum.RecoveryReport{Unreachable: read.Unreachable, BaseOnly: read.BaseOnly}
					for _, tx := range read.Pending {
						report.Transactions = append(report.Transactions, quorum.TxRecovery{TxStatus: tx, Before: tx.Views})
					}
				}
			} else {
				progress, done := g.progress("recover")
				report, err = s.client.RecoverWith(cmd.Context(), quorum.RecoverOptions{LeaveYoung: !young, Progress: progress})
				done()
			}
			if report != nil {
				if werr := WriteRecovery(g.stdout, report, dryRun, asJSON); werr != nil && err == nil {
					err = werr
				}
				if err == nil {
					err = recoveryOutcome(report, dryRun, s.client.N()-len(report.BaseOnly))
				}
			}
			return s.finish(err)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only list the pending transactions")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&young, "young", false, "also settle transactions a live coordinator may still be deciding")
	return cmd
}

// recoveryOutcome is nil when no transaction is left prepared on any of the
// extension providers (there are extension of them). A provider that could
// not be asked may hold prepared transactions nobody saw: that is not "none
// left" (exit status 3, as for transactions left prepared), and when none
// could be asked the recovery did not run at all (exit status 1).
func recoveryOutcome(r *quorum.RecoveryReport, dryRun bool, extension int) error {
	left := 0
	for _, t := range r.Transactions {
		if dryRun || !t.Settled {
			left++
		}
	}
	unreachable := slices.Sorted(maps.Keys(r.Unreachable))
	switch {
	case len(unreachable) > 0 && len(unreachable) >= extension:
		return fmt.Errorf("recovery could not run: no provider answered (%s unreachable)", strings.Join(unreachable, ", "))
	case left > 0 && len(unreachable) > 0:
		return &disagreeError{summary: fmt.Sprintf("%d transaction(s) still prepared on some provider, and %s could not be asked: run recover again when they answer", left, strings.Join(unreachable, ", "))}
	case left > 0:
		return &disagreeError{summary: fmt.Sprintf("%d transaction(s) still prepared on some provider", left)}
	case len(unreachable) > 0:
		return &disagreeError{summary: fmt.Sprintf("%s could not be asked: transactions prepared there are unknown; run recover again when they answer", strings.Join(unreachable, ", "))}
	}
	return nil
}

// WriteRecovery prints a recovery report: each transaction with its keys, the
// decision, what each provider held and what was done; then the providers that
// could not be asked.
func WriteRecovery(w io.Writer, r *quorum.RecoveryReport, dryRun, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	switch {
	case len(r.Transactions) == 0:
		// Only what the providers that answered hold is known, and the young
		// transactions listed below are left prepared on purpose.
		what := "no transaction is left prepared"
		if len(r.Young) > 0 {
			what = "no transaction to settle now"
		}
		if len(r.Unreachable) > 0 {
			what += " on the providers that answered"
		}
		fmt.Fprintln(w, what)
	case dryRun:
		fmt.Fprintf(w, "%d transaction(s) left prepared (dry run: nothing changed)\n", len(r.Transactions))
	default:
		fmt.Fprintf(w, "%d transaction(s) were left prepared\n", len(r.Transactions))
	}
	for _, t := range r.Transactions {
		state := "decision: " + t.Decision.String()
		if !dryRun {
			state += ", " + map[bool]string{true: "settled", false: "NOT settled"}[t.Settled]
		}
		fmt.Fprintf(w, "  tx %s  keys %s  %s\n", shortHex(t.TxID), strings.Join(t.Keys, ", "), state)
		fmt.Fprintf(w, "    held: %s\n", describeViews(t.Before))
		if len(t.Unverified) > 0 {
			fmt.Fprintf(w, "    count for nothing: %s (prepare seal missing or not valid: made up or replayed)\n", strings.Join(t.Unverified, ", "))
		}
		for _, a := range t.Actions {
			fmt.Fprintf(w, "    %s\n", a)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Unreachable)) {
		fmt.Fprintf(w, "unreachable: %s: %s\n", name, r.Unreachable[name])
	}
	for _, t := range r.Young {
		fmt.Fprintf(w, "  tx %s  keys %s  young: left to its coordinator (run recover again later, or --young)\n", shortHex(t.TxID), strings.Join(t.Keys, ", "))
	}
	if len(r.BaseOnly) > 0 {
		fmt.Fprintf(w, "base protocol only (no transactions to settle): %s\n", strings.Join(r.BaseOnly, ", "))
	}
	return nil
}

// describeViews lists what each provider held, by provider name.
func describeViews(views map[string]quorum.TxView) string {
	parts := make([]string, 0, len(views))
	for _, name := range slices.Sorted(maps.Keys(views)) {
		parts = append(parts, fmt.Sprintf("%s %s", name, views[name]))
	}
	return strings.Join(parts, ", ")
}

// shortHex shows the start of a txid, enough to tell transactions apart.
func shortHex(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
