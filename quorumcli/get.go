package quorumcli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/quorum/envelope"
)

func newGetCommand(g *globals) *cobra.Command {
	var repair, jsonOut bool
	cmd := &cobra.Command{
		Use:   "get [PREFIX]",
		Short: "Read the keys under PREFIX through the quorum",
		Long: `get reads every key starting with PREFIX (all keys if omitted) from the
providers, merges the replies (per key, the highest version whose value HMAC
verifies) and prints the entries, then one line per provider saying how it
compares: up to date, behind (which keys, which versions), ahead, diverged,
faulty (its reply failed verification; its data was ignored) or unreachable.

Values are decrypted (they are stored encrypted unless the configuration says
"disable_encryption"); a value stored unencrypted is an error unless the
configuration says "read_legacy_plaintext": true.

Exit status 1 when fewer than R providers gave a valid reply, when a key's
newest version is held with different values none known to be the acknowledged
one (a tie), or when a value does not decrypt; 4 when the merged data is older
than what this client saw acknowledged before, or holds another value at the
acknowledged version (a rollback: the rolled-back keys are listed per provider,
with the ways out). In those cases no entries are printed.`,
		Args: prefixArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			s, err := g.openSession(cmd.Context(), sessionMode{autoRepair: repair, settle: true})
			if err != nil {
				return err
			}
			res, err := s.client.Get(cmd.Context(), prefix)
			if jsonOut {
				if jerr := WriteGetJSON(g.stdout, prefix, s.client.R(), res, err); err == nil {
					err = jerr
				}
				return s.finish(err)
			}
			// A read whose watermark could not be saved still read verified
			// data: it is printed, and the error says what was not saved.
			var saveErr *quorum.WatermarkSaveError
			if err == nil || errors.As(err, &saveErr) && res != nil {
				WriteEntries(g.stdout, res.Entries)
			}
			if res != nil {
				fmt.Fprintf(g.stdout, "providers (read quorum %d of %d):\n", s.client.R(), s.client.N())
				WriteProviderStates(g.stdout, res.Providers)
				WritePending(g.stdout, res.Pending)
				err = shortenQuorumError(err)
			}
			var rb *quorum.RollbackError
			if errors.As(err, &rb) {
				WriteWaysOut(g.stdout, rb.Keys, rb.Unheard)
			}
			if errors.Is(err, envelope.ErrEnvelope) {
				err = fmt.Errorf("%w\nhint: values stored unencrypted (written with \"disable_encryption\" or by an earlier version) are read with \"read_legacy_plaintext\": true in the configuration", err)
			}
			return s.finish(err)
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "also repair the providers found behind (before exiting)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the entries and the providers' states as one JSON object")
	return cmd
}

// shortenQuorumError replaces a read quorum failure, whose per-provider reasons
// were just printed with the providers, by a one-line summary.
func shortenQuorumError(err error) error {
	var qe *quorum.QuorumError
	if !errors.As(err, &qe) {
		return err
	}
	return fmt.Errorf("%w: valid replies from %d of %d providers, need %d (reasons listed above)", quorum.ErrNoQuorum, qe.Got, qe.N, qe.Need)
}

// versionWord is "v3", or "nothing" for -1 (an absent key).
func versionWord(v int64) string {
	if v < 0 {
		return "nothing"
	}
	return fmt.Sprintf("v%d", v)
}

// WritePending lists the values held without a commit proof (atomic mode),
// which the read did not return; nothing when there are none.
func WritePending(w io.Writer, pending []quorum.PendingEntry) {
	if len(pending) == 0 {
		return
	}
	fmt.Fprintln(w, "pending (held without a commit proof, not returned; their transactions are being recovered):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range pending {
		fmt.Fprintf(tw, "  %q\tv%d\ttxid %x\ton %s\n", p.Key, p.Version, p.TxID, strings.Join(p.Providers, ", "))
	}
	tw.Flush()
}

// WriteEntries prints entries as a table of key, version and hex value.
func WriteEntries(w io.Writer, entries []provider.Entry) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "no keys")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVERSION\tVALUE (hex)")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", e.Key, e.Version, hex.EncodeToString(e.Value))
	}
	tw.Flush()
}

// WriteProviderStates prints one line per provider: its name, status and what is
// wrong with it.
func WriteProviderStates(w io.Writer, states []quorum.ProviderState) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range states {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Status, DescribeState(s))
	}
	tw.Flush()
}

// DescribeState says in words what a read found about one provider.
func DescribeState(s quorum.ProviderState) string {
	var parts []string
	if s.Status != quorum.Faulty && s.Status != quorum.Unreachable {
		parts = append(parts, fmt.Sprintf("%d key(s)", s.Keys))
	}
	add := func(label string, kvs []quorum.KeyComparison) {
		if len(kvs) == 0 {
			return
		}
		items := make([]string, len(kvs))
		for i, kv := range kvs {
			items[i] = kv.String()
		}
		parts = append(parts, label+" "+strings.Join(items, ", "))
	}
	add("behind:", s.Behind)
	add("missing:", s.Missing)
	add("ahead:", s.Ahead)
	add("diverged:", s.Diverged)
	add("tampered:", s.Tampered)
	add("without a commit proof:", s.Unproven)
	if len(s.RolledBack) > 0 {
		items := make([]string, len(s.RolledBack))
		for i, kl := range s.RolledBack {
			items[i] = fmt.Sprintf("%q confirmed v%d, now %s", kl.Key, kl.Confirmed, versionWord(kl.Held))
		}
		parts = append(parts, "ROLLED BACK: "+strings.Join(items, ", "))
	}
	if len(s.BelowWatermark) > 0 {
		items := make([]string, len(s.BelowWatermark))
		for i, kl := range s.BelowWatermark {
			items[i] = fmt.Sprintf("%q acknowledged v%d, holds %s", kl.Key, kl.Confirmed, versionWord(kl.Held))
		}
		parts = append(parts, "BELOW THE WATERMARK: "+strings.Join(items, ", "))
	}
	if s.Err != nil {
		parts = append(parts, s.Err.Error())
	}
	return strings.Join(parts, "; ")
}
