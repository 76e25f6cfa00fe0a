package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURLEnv names an existing PostgreSQL server to test against instead of
// starting one. The role must be allowed to create schemas in the database.
const PostgresURLEnv = "LSSD_TEST_POSTGRES_URL"

// PostgresInstall says how to get what the PostgreSQL tests need.
const PostgresInstall = "apt-get install postgresql, or set " + PostgresURLEnv

var (
	pgOnce sync.Once
	pgURL  string
	pgErr  error
)

// PostgresServer returns the URL of the test PostgreSQL server, starting it on first
// use. It skips t (fails it under CI) if no server can be had. Tests sharing the
// server should each use their own schema: see PostgresURL.
func PostgresServer(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() {
		if u := os.Getenv(PostgresURLEnv); u != "" {
			pgURL = u
			return
		}
		var c *cluster
		c, pgErr = startClusterRetrying()
		if pgErr == nil {
			pgURL = c.url
			onExit(c.stop)
		}
	})
	if pgErr != nil {
		unavailable(t, "PostgreSQL", pgErr, PostgresInstall)
	}
	return pgURL
}

// PostgresURL returns the URL of a new, empty schema on the test PostgreSQL server:
// its search_path names only that schema, so tables created through the URL land in
// it and two tests never see each other's tables. The schema is dropped when t ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	server := PostgresServer(t)
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	schema := "lss_test_" + hex.EncodeToString(suffix[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execOnce(ctx, server, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := execOnce(ctx, server, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("dropping test schema %s: %v", schema, err)
		}
	})
	u, err := WithSearchPath(server, schema)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// WithSearchPath returns the PostgreSQL URL u with its search_path set to schema.
func WithSearchPath(u, schema string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") {
		return "", fmt.Errorf("test PostgreSQL server must be given as a postgres:// URL")
	}
	q := parsed.Query()
	q.Set("search_path", schema)
	parsed.RawQuery = q.Encode()
	return parsed.String(), nil
}

// execOnce runs one statement on a connection of its own.
func execOnce(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// startClusterRetrying starts a cluster, trying again a few times in case another
// process took the chosen port first.
func startClusterRetrying() (*cluster, error) {
	var errs []error
	for range 3 {
		c, err := startCluster()
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if errors.Is(err, errNoPostgres) {
			break
		}
	}
	return nil, errors.Join(errs...)
}
