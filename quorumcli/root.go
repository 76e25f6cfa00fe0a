package quorumcli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/spf13/cobra"
)

// ConfigEnv names the environment variable that sets the default --config.
const ConfigEnv = "LSS_QUORUM_CONFIG"

// globals are the flags every command shares.
type globals struct {
	configPath string
	verbose    bool
	stdout     io.Writer
	stderr     io.Writer
}

// logger is where the libraries log background events (late replies, repairs):
// errors only by default, everything with --verbose.
func (g *globals) logger() *slog.Logger {
	level := slog.LevelError
	if g.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
}

// DefaultConfigPath is $LSS_QUORUM_CONFIG, or ~/.lss-quorum/config.json.
func DefaultConfigPath() string {
	if p := os.Getenv(ConfigEnv); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".lss-quorum", "config.json")
	}
	return filepath.Join(home, ".lss-quorum", "config.json")
}

// Main runs lss-quorum with args (without the program name) and returns the exit
// status. ctx ends the command early (the main package cancels it on SIGINT and
// SIGTERM).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	return cmdmain.Execute(ctx, newRootCommand(g), args, stdout, stderr, ExitCode)
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "lss-quorum",
		Short: "Keep LSS state on several providers and check that they agree",
		Long: `lss-quorum writes and reads a Lightning Storage Service client's state through a
quorum of independent LSS providers, and audits them: which provider is behind
(lagging or rolled back), which one returned data that fails verification, which
one is unreachable.

Start with "lss-quorum demo" (no setup needed). For a local network:
  lss-quorum testnet up -n 3          # in one terminal; writes the config
  lss-quorum init                     # client key, pins every server_id
  lss-quorum put mykey 0 68656c6c6f
  lss-quorum get my
  lss-quorum audit

Exit status: 0 success (audit: every provider agrees); 1 the operation failed
(no quorum, a provider refused, an I/O error), or it succeeded but the watermark
file could not be saved (the message says which); 2 bad arguments or
configuration (the configuration file, the client key, TLS files, a watermark
file that is damaged or of another client key: nothing was sent); 3 audit found
providers that disagree (with --repair: still disagree after the repair), or
recover left transactions prepared or could not ask a provider; 4 rollback
detected (the providers hold older versions than this client saw acknowledged;
no data is returned); 5 an atomic put's outcome is indeterminate (it may yet
commit or abort, never half: run "lss-quorum recover").`,
		// Without a command, show the help; an unknown one is a usage error
		// (cobra's own handling would print the help and exit 0).
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return usagef("unknown command %q", args[0])
		},
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", DefaultConfigPath(),
		"configuration file; $"+ConfigEnv+" sets the default")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "log what the quorum client does in the background")
	cmdmain.Setup(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(explainFlagError(err)) })
	root.AddCommand(
		newTestnetCommand(g),
		newInitCommand(g),
		newPutCommand(g),
		newGetCommand(g),
		newAuditCommand(g),
		newRecoverCommand(g),
		newWatermarkCommand(g),
		newDemoCommand(g),
		newBenchCommand(g),
		newConfigHelpTopic(),
	)
	return root
}

// exactArgs, rangeArgs: cobra's validators with usage errors (exit status 2);
// Main prints the usage line after the message.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d", commandName(cmd), n, len(args))
		}
		return nil
	}
}

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usagef("%s takes %d to %d argument(s), got %d", commandName(cmd), lo, hi, len(args))
		}
		return nil
	}
}

// commandName is the command's path below lss-quorum ("watermark show"), as
// the user typed it; the error is already prefixed with "lss-quorum: ".
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// prefixArgs accepts an optional PREFIX, which must be valid UTF-8 like a key.
func prefixArgs(cmd *cobra.Command, args []string) error {
	if err := rangeArgs(0, 1)(cmd, args); err != nil {
		return err
	}
	if len(args) == 1 {
		if err := checkKeyText("PREFIX", args[0]); err != nil {
			return usageError(err)
		}
	}
	return nil
}

// negativeNumber matches pflag's error for an argument such as "-1", which it
// takes for a bundle of short flags.
var negativeNumber = regexp.MustCompile(`^unknown shorthand flag: '[0-9]' in (-[0-9]\S*)$`)

// explainFlagError says what an argument that looks like a negative number
// was taken for: "put k -1 aa" would otherwise only complain of a flag '1'.
func explainFlagError(err error) error {
	if m := negativeNumber.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%w: %s was read as flags; no version is negative, and an argument that starts with \"-\" goes after \"--\" (lss-quorum put -- -key 0 aa)", err, m[1])
	}
	return err
}
