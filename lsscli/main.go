// Package lsscli is the lss-cli command, a command-line client for one LSS server,
// compatible with the Rust lss-cli: same commands, same files (client-key and
// server-pubkey in ~/.lss) and the same stored value format (value HMAC, then
// ChaCha20), so either tool reads what the other wrote with the same client key.
//
//	lss-cli [--rpc PORT|URL] [--datadir DIR] init
//	lss-cli ping | info | put KEY VERSION HEXVALUE | get PREFIX
//
// Every reply and value HMAC is checked; a failed check is an error on stderr and
// a non-zero exit status, never data on stdout. The main package only calls Main.
package lsscli

import (
	"context"
	"io"

	"github.com/lssquorum/lss/internal/cmdmain"
)

// Exit statuses of lss-cli.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitFailure: the command failed: the server is unreachable or refused, a
	// check failed, a put conflicted with the stored version.
	ExitFailure = 1
	// ExitUsage: bad arguments or flags; nothing was sent.
	ExitUsage = cmdmain.ExitUsage
)

// Main runs lss-cli with args (without the program name) and returns the exit
// status; errors go to stderr. ctx ends the command early (the main package
// cancels it on SIGINT and SIGTERM).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cmdmain.Execute(ctx, newRootCmd(stdout), args, stdout, stderr, ExitCode)
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
