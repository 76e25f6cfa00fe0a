package quorumcli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/quorum"
)

func newAuditCommand(g *globals) *cobra.Command {
	var repair, asJSON bool
	cmd := &cobra.Command{
		Use:   "audit [PREFIX]",
		Short: "Check that every provider holds the same data, and optionally repair",
		Long: `audit asks every provider for the keys under PREFIX (all keys if omitted),
waiting for all of them, and reports per provider: reachable, server_id as pinned,
reply verified, key count, and the keys it holds behind, misses, holds ahead, holds
with a different value, or holds tampered (value HMAC fails), with versions. Then it
says every problem in plain words.

With --repair it copies the newest versions to the providers that are behind (the
forward-only Restore: nothing is ever lowered) and audits again. A tampered value
cannot be repaired that way (the provider already holds that version); write the
key's next version through the quorum ("put"), or replace the provider.

--json prints the whole report (with the repair and the audit after it) as JSON.

Exit status:
  0  every provider agrees (with --repair: they agree after the repair)
  3  providers disagree: some provider is behind, ahead, diverged, faulty or
     unreachable (with --repair: some still disagree after the repair)
  4  the whole quorum rolled back: every provider holds older versions than this
     client saw acknowledged (with --repair: still so after the repair); the
     rolled-back keys are listed per provider, with the ways out
  1  the audit itself could not run; 2 bad arguments or configuration`,
		Args: prefixArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			s, err := g.openSession(cmd.Context(), sessionMode{settle: repair})
			if err != nil {
				return err
			}
			progress, done := g.progress("audit")
			report, err := s.client.Audit(cmd.Context(), prefix, quorum.AuditOptions{Repair: repair, Progress: progress})
			done()
			if report != nil {
				if werr := WriteAudit(g.stdout, report, asJSON); werr != nil && err == nil {
					err = werr
				}
			}
			if err == nil {
				err = AuditOutcome(report)
			}
			var rb *rollbackError
			if !asJSON && errors.As(err, &rb) {
				WriteWaysOut(g.stdout, rb.keys, unanswered(report))
			}
			return s.finish(err)
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "repair providers that are behind, then audit again")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// WriteAudit prints the report as a table, or as indented JSON.
func WriteAudit(w io.Writer, r *quorum.AuditReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err := io.WriteString(w, r.Table())
	return err
}

// unanswered names the providers of the final audit without a verified reply:
// one of them may still hold the rolled-back data.
func unanswered(r *quorum.AuditReport) []string {
	if r.After != nil {
		r = r.After
	}
	var out []string
	for _, p := range r.Providers {
		if !p.Verified {
			out = append(out, p.Name)
		}
	}
	return out
}

// rollbackError reports a rollback of the whole quorum found by an audit.
type rollbackError struct{ keys []quorum.KeyRollback }

func (e *rollbackError) Error() string {
	return fmt.Sprintf("%v: %d key(s) are below the versions this client saw acknowledged (see the report)", quorum.ErrRollback, len(e.keys))
}

// Is makes errors.Is(err, quorum.ErrRollback) hold, hence exit status 4.
func (e *rollbackError) Is(target error) bool { return target == quorum.ErrRollback }

// AuditOutcome decides the exit status of an audit from its report: with a
// repair, the audit after it is what counts. nil means every provider agrees.
func AuditOutcome(r *quorum.AuditReport) error {
	final := r
	after := ""
	if r.Repair != nil {
		if r.After == nil {
			return fmt.Errorf("the repair ran but the audit after it did not")
		}
		final, after = r.After, " after the repair"
	}
	if len(final.RolledBack) > 0 {
		return &rollbackError{keys: final.RolledBack}
	}
	if final.Verdict != quorum.Agree {
		return &disagreeError{summary: fmt.Sprintf("providers disagree%s: %d problem(s), listed above", after, len(final.Problems))}
	}
	return nil
}
