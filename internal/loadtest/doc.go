// Package loadtest runs the resource-exhaustion attacks of issue 10 against a
// real lssd process and reports its resident memory (RSS) before, at peak and
// after each: many clients with big values, a namespace read whole, concurrent
// unauthenticated big requests, a flood of made-up client_ids, and thousands of
// idle connections. It is a test that runs only when LSSD_LOADTEST names an lssd
// binary (the rest of the tests do not need the minute it takes):
//
//	go build -o /tmp/lssd ./cmd/lssd
//	LSSD_LOADTEST=/tmp/lssd go test -v -run Load -timeout 20m ./internal/loadtest
//
// Pointing LSSD_LOADTEST at an older build compares the two. LSSD_LOADTEST_ONLY
// runs only the attacks whose name contains it (e.g. "60 MiB").
package loadtest
