// Command lss-cli is a command-line client for one LSS server, compatible with the
// Rust lss-cli: same commands, same files (client-key and server-pubkey in ~/.lss)
// and the same stored value format (value HMAC, then ChaCha20), so either tool
// reads what the other wrote with the same client key.
//
//	lss-cli [--rpc PORT|URL] [--datadir DIR] init
//	lss-cli ping | info | put KEY VERSION HEXVALUE | get PREFIX
//
// Every reply and value HMAC is checked; a failed check is an error on stderr and
// a non-zero exit status, never data on stdout.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit status: 0 on
// success, 1 on any error (reported on stderr).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd(stdout)
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "lss-cli: %v\n", err)
		return 1
	}
	return 0
}
