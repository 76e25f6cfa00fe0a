// Command lss-quorum keeps an LSS client's state on several providers and checks
// that they agree; see `lss-quorum help` and package quorumcli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lssquorum/lss/quorumcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := quorumcli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
