package quorumcli

import (
	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/internal/demo"
)

func newDemoCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Show rollback and tampering being caught and repaired, on a local network",
		Long: `demo needs no configuration. It starts three local LSS providers in a temporary
directory, writes and reads through the quorum, rolls one provider back to an old
snapshot and tampers with a value on another, then shows that reads still return
the newest verified data, that the audit names both providers with the keys and
versions involved, that repair fixes the rolled-back one, and what to do about the
tampered value. Everything is stopped and deleted at the end.

Exit status 0 when every step behaved as described; 1 (with the step) otherwise.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := demo.Options{}
			if g.verbose {
				opts.Logger = g.logger()
			}
			return demo.Run(cmd.Context(), g.stdout, opts)
		},
	}
}
