// Command lss-cli is a command-line client for one LSS server, compatible with the
// Rust lss-cli; see `lss-cli --help` and package lsscli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lssquorum/lss/lsscli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := lsscli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
