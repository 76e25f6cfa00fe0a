// Command lssd runs a Lightning Storage Service server: the LSS gRPC protocol (and
// this project's quorum extension) over an embedded database in a data directory.
//
// It logs its listening address and server_id at start, and on SIGINT or SIGTERM
// stops gracefully: no new connections, in-flight calls finish (bounded by
// --shutdown-timeout), and the database is closed cleanly.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
)

func main() {
	if err := newRootCommand().ExecuteContext(context.Background()); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "lssd:") {
			msg = "lssd: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}
