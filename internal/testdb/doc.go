// Package testdb starts the real databases that backend tests run against: a
// PostgreSQL cluster (Debian's server binaries, run from a temporary directory on a
// loopback port) and an etcd server (embedded in the test process). Each is started
// at most once per test binary, on first use, and stopped by Main when the tests end.
//
// LSSD_TEST_POSTGRES_URL and LSSD_TEST_ETCD_ENDPOINTS (comma-separated) point the
// tests at an existing server instead. When a database cannot be had, a test is
// skipped on a developer machine, but fails when CI=true, with a message saying what
// to install: continuous integration must never pass by skipping.
package testdb
