// Command lssd runs a Lightning Storage Service server: the LSS gRPC protocol (and
// this project's quorum extension) over a database; see `lssd --help` and package
// lssdcli.
//
// It logs its listening address and server_id at start, and on SIGINT or SIGTERM
// stops gracefully: no new connections, in-flight calls finish (bounded by
// --shutdown-timeout), and the database is closed cleanly. A second signal during
// the graceful stop kills the process at once.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lssquorum/lss/lssdcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling so a second one kills.
	go func() { <-ctx.Done(); stop() }()
	code := lssdcli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
