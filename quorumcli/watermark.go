package quorumcli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/quorum"
)

func newWatermarkCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "watermark",
		Short: "Show, reset or re-put what this client saw acknowledged",
		Long: `The watermark file (see "lss-quorum help config") keeps, per key, the highest
version this client saw acknowledged (by a put, or by W providers in a read)
with the SHA-256 of its value, and per provider the versions it confirmed
holding. Every put and get saves it before returning. It is what detects a
rollback of every provider at once, and what refuses a put at or below an
acknowledged version; that protection across restarts is only as good as the
place the file is kept (not on a provider's disk, not restored with one).

After a rollback nobody can repair, "reput" writes the acknowledged value back
at its version, and "reset" deliberately forgets keys. Never delete the file
instead: that silently drops the protection for every key.`,
		// Without a subcommand, the help; an unknown one is a usage error.
		Args: cobra.ArbitraryArgs,
		RunE: cmdmain.HelpOrUnknown,
	}
	cmd.AddCommand(newWatermarkShowCommand(g), newWatermarkResetCommand(g), newWatermarkReputCommand(g))
	return cmd
}

// watermarkFile opens the configured watermark file for the client key in use.
func (g *globals) watermarkFile() (*quorum.WatermarkFile, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	key, err := clientkey.Load(cfg.ClientKeyPath())
	if errors.Is(err, clientkey.ErrNotInitialized) {
		return nil, configf("client key %s does not exist: run `lss-quorum init` first", cfg.ClientKeyPath())
	}
	if err != nil {
		return nil, configError(err)
	}
	return quorum.OpenWatermarkFile(cfg.WatermarkPath(), wire.PublicID(key)), nil
}

func newWatermarkShowCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print the watermark of every key and what each provider confirmed",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := g.watermarkFile()
			if err != nil {
				return err
			}
			w, err := f.Load(cmd.Context())
			if err != nil {
				return watermarkError(f.Path(), err)
			}
			fmt.Fprintf(g.stdout, "watermark %s\n", f.Path())
			WriteWatermarks(g.stdout, w)
			return nil
		},
	}
}

// WriteWatermarks prints the marks as a table, each provider's confirmed
// versions, and how many aborted transactions the client remembers.
func WriteWatermarks(w io.Writer, wm quorum.Watermarks) {
	if len(wm.Keys) == 0 {
		fmt.Fprintln(w, "no keys")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tVERSION\tSHA256 OF THE VALUE")
		for _, k := range slices.Sorted(maps.Keys(wm.Keys)) {
			m := wm.Keys[k]
			digest := "(unknown: saved by an older version)"
			if m.Digest != nil {
				digest = hex.EncodeToString(m.Digest)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\n", k, m.Version, digest)
		}
		tw.Flush()
	}
	for _, name := range slices.Sorted(maps.Keys(wm.Confirmed)) {
		fmt.Fprintf(w, "%s confirmed %d key(s)\n", name, len(wm.Confirmed[name]))
	}
	if n := len(wm.Aborted); n > 0 {
		fmt.Fprintf(w, "%d transaction(s) this client decided aborted (a recovery never commits them)\n", n)
	}
}

func newWatermarkResetCommand(g *globals) *cobra.Command {
	var keys []string
	var all bool
	cmd := &cobra.Command{
		Use:   "reset (--key KEY ... | --all)",
		Short: "Deliberately forget the watermark of some keys, or of all",
		Long: `reset forgets what this client saw acknowledged for the given keys (or for
every key with --all), and what each provider confirmed of them. Afterwards get
returns whatever a read quorum holds for them, even if it is older than what was
acknowledged, and put accepts any version above what the providers hold.

Use it only after deciding that the providers' older state is to be accepted
(the data of the newer versions is lost, or restored elsewhere): it is the one
operation that lowers the watermark. If a provider or a backup still holds the
newer data, repair from it instead (lss-quorum audit --repair); if you still
have the acknowledged value, write it back (lss-quorum watermark reput).

A watermark file that is damaged (it does not parse) cannot be reset key by
key; --all moves it aside, to FILE.damaged-TIME, and starts an empty one.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all == (len(keys) > 0) {
				return usagef("say which keys to forget: --key KEY (repeatable) or --all")
			}
			f, err := g.watermarkFile()
			if err != nil {
				return err
			}
			before, err := f.Load(cmd.Context())
			if all && damagedWatermark(f.Path(), err) {
				// Nothing in it can be trusted, so nothing can be kept: the
				// file is set aside, not deleted, for whoever wants to look.
				aside, merr := moveAside(f.Path())
				if merr != nil {
					return fmt.Errorf("%w; moving it aside failed: %v", err, merr)
				}
				fmt.Fprintf(g.stdout, "watermark %s could not be read, so every key is forgotten; the damaged file is now %s\n", f.Path(), aside)
				return nil
			}
			if err != nil {
				return watermarkError(f.Path(), err)
			}
			if err := f.Reset(cmd.Context(), keys); err != nil {
				return err
			}
			if all {
				fmt.Fprintf(g.stdout, "watermark %s reset: forgot %d key(s)\n", f.Path(), len(before.Keys))
				return nil
			}
			for _, k := range keys {
				if m, ok := before.Keys[k]; ok {
					fmt.Fprintf(g.stdout, "forgot %q (acknowledged at v%d)\n", k, m.Version)
				} else {
					fmt.Fprintf(g.stdout, "%q had no watermark\n", k)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "a key to forget (repeatable)")
	cmd.Flags().BoolVar(&all, "all", false, "forget every key")
	return cmd
}

func newWatermarkReputCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reput KEY VERSION HEXVALUE [KEY VERSION HEXVALUE ...]",
		Short: "Write the acknowledged value back at its version after a rollback",
		Long: `reput writes each key's acknowledged value back at its acknowledged version,
onto every provider that holds less (forward-only, as audit --repair does), then
reads the keys back. Each VERSION and HEXVALUE must be exactly what the
watermark holds (its SHA-256 is compared): nothing else can be written this way.

Exit status 0 once a read quorum holds the acknowledged state again; 4 if the
read still finds a rollback; 2 if a key's VERSION and HEXVALUE are not what the
watermark holds (nothing is written).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || len(args)%3 != 0 {
				return usagef("reput takes KEY VERSION HEXVALUE triples, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kvs, err := ParsePutArgs(args)
			if err != nil {
				return usageError(err)
			}
			s, err := g.openSession(cmd.Context(), sessionMode{settle: true})
			if err != nil {
				return err
			}
			rep, err := s.client.Reput(cmd.Context(), kvs)
			if errors.Is(err, quorum.ErrNotAcknowledged) {
				return s.finish(configError(err))
			}
			if rep != nil {
				for _, p := range rep.Providers {
					fmt.Fprintf(g.stdout, "  %s: %s\n", p.Name, describeRepair(p))
				}
			}
			if err == nil {
				fmt.Fprintf(g.stdout, "%d key(s) back at their acknowledged versions\n", len(kvs))
			}
			return s.finish(err)
		},
	}
}

// describeRepair says in one line what a repair did to one provider.
func describeRepair(p quorum.ProviderRepair) string {
	switch {
	case p.Error != "":
		return p.Error
	case len(p.Restored) > 0:
		return fmt.Sprintf("restored %d key(s)", len(p.Restored))
	case len(p.Kept) > 0:
		return fmt.Sprintf("%d key(s) already there", len(p.Kept))
	}
	return "nothing to do"
}

// moveAside renames a damaged watermark file to PATH.damaged-TIME, a name not
// taken yet, and returns the new name.
func moveAside(path string) (string, error) {
	base := path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
	aside := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		if i == 100 {
			return "", fmt.Errorf("no free name beside %s", base)
		}
		aside = fmt.Sprintf("%s.%d", base, i)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return aside, nil
}
