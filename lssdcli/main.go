// Package lssdcli is the lssd command: flags and environment to lssd.Options, the
// serving loop with its graceful stop, and the operator's subcommands. The main
// package only cancels a context on SIGINT or SIGTERM and calls Main.
package lssdcli

import (
	"context"
	"io"

	"github.com/lssquorum/lss/internal/cmdmain"
)

// Exit statuses of lssd.
const (
	// ExitOK: the server stopped cleanly after a signal, or the subcommand succeeded.
	ExitOK = 0
	// ExitFailure: the server could not start (unreadable key, unreachable
	// database, port in use...) or did not stop cleanly; a subcommand failed.
	ExitFailure = 1
	// ExitUsage: bad flags or arguments; nothing was started.
	ExitUsage = cmdmain.ExitUsage
)

// Main runs lssd with args (without the program name) and returns the exit
// status. Logs go to stderr; --help and --version to stdout. Cancelling ctx (the
// main package does on SIGINT and SIGTERM) stops the server gracefully.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cmdmain.Execute(ctx, newRootCommand(), args, stdout, stderr, ExitCode)
}

// ExitCode maps an error returned by a command to the exit status.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case cmdmain.IsUsage(err):
		return ExitUsage
	}
	return ExitFailure
}
