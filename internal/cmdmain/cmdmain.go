// Package cmdmain is what the three commands (lssd, lss-cli, lss-quorum) share
// around their cobra trees: the --version flag, usage errors with exit status 2
// (also from "help" and "completion", for a topic or shell they do not know),
// and running a tree to an exit status with errors printed one way.
package cmdmain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lssquorum/lss/internal/buildinfo"
	"github.com/spf13/cobra"
)

// ExitUsage is the exit status of a usage error in every command: bad arguments,
// flags or configuration, and nothing was done.
const ExitUsage = 2

// UsageError marks an error as a usage error (ExitUsage).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is, or wraps, a UsageError.
func IsUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

// Setup makes root behave as every command here does: errors and usage are
// printed once by Execute (not by cobra), a flag error is a usage error,
// --version prints buildinfo.String, and "help TOPIC" of an unknown topic is a
// usage error.
func Setup(root *cobra.Command) {
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{err} })
	root.Version = buildinfo.Version()
	// Our own flag, so that cobra does not claim -v (lss-quorum's --verbose).
	root.Flags().Bool("version", false, "print the version and exit")
	root.SetVersionTemplate(buildinfo.String(root.Name()))
	root.SetHelpCommand(helpCommand())
}

// helpCommand is cobra's "help [command]", except that a topic it does not
// know is a usage error (cobra's prints the usage and exits 0).
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return Usagef("unknown help topic %q", strings.Join(args, " "))
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

// strictCompletion makes cobra's default "completion" command, which only
// holds the shells' subcommands, refuse an unknown shell as a usage error
// (cobra's shows its help and exits 0).
func strictCompletion(root *cobra.Command, args []string) {
	root.InitDefaultCompletionCmd(args...)
	for _, c := range root.Commands() {
		if c.Name() == "completion" && !c.Runnable() {
			c.Args = cobra.ArbitraryArgs
			c.RunE = HelpOrUnknown
		}
	}
}

// ExactArgs and RangeArgs are cobra's validators returning usage errors.
func ExactArgs(n int) cobra.PositionalArgs { return RangeArgs(n, n) }

// RangeArgs accepts lo to hi arguments; anything else is a usage error.
func RangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= lo && len(args) <= hi {
			return nil
		}
		if lo == hi {
			return Usagef("%s takes %d argument(s), got %d", cmd.CommandPath(), lo, len(args))
		}
		return Usagef("%s takes %d to %d argument(s), got %d", cmd.CommandPath(), lo, hi, len(args))
	}
}

// NoArgs refuses any argument as a usage error (an unknown command, usually).
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

// HelpOrUnknown is the RunE of a root that only holds commands: without
// arguments it shows the help; an unknown command is a usage error (cobra's own
// handling would print the help and exit 0).
func HelpOrUnknown(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return Usagef("unknown command %q for %q", args[0], cmd.CommandPath())
}

// Execute runs root with args and returns the exit status exitCode gives its
// error. An error is printed on stderr as "NAME: message"; a usage error (a
// UsageError: bad flags or arguments) is followed by the usage line of the
// command that failed and a pointer to --help, as cobra does for etcdctl. Other
// errors, including those a command maps to ExitUsage because the configuration
// is wrong, print only their message: the usage line would not help.
func Execute(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer, exitCode func(error) int) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// After SetOut: the completion scripts are written where it says.
	strictCompletion(root, args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	code := exitCode(err)
	msg := err.Error()
	prefix := root.Name() + ": "
	if !strings.HasPrefix(msg, prefix) {
		msg = prefix + msg
	}
	fmt.Fprintln(stderr, msg)
	if IsUsage(err) && cmd != nil {
		fmt.Fprintf(stderr, "usage: %s\nRun '%s --help' for more.\n", cmd.UseLine(), cmd.CommandPath())
	}
	return code
}
