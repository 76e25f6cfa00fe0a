package testdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestMain(m *testing.M) { Main(m) }

// The harness must hand out a server that really answers, and schemas that are
// really separate.
func TestPostgresSchemasAreSeparate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := PostgresURL(t), PostgresURL(t)
	connA, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer connA.Close(ctx)
	if _, err := connA.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	connB, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer connB.Close(ctx)
	if _, err := connB.Exec(ctx, "SELECT * FROM t"); err == nil {
		t.Fatal("a table created through one schema URL is visible through another")
	}
}

func TestEtcdAnswers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := clientv3.New(clientv3.Config{Endpoints: EtcdEndpoints(t), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "testdb/probe", "v"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, "testdb/probe")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("get after put: %v %v", resp, err)
	}
}

func TestWithSearchPath(t *testing.T) {
	got, err := WithSearchPath("postgres://u@127.0.0.1:5/db?sslmode=disable", "s1")
	if err != nil || got != "postgres://u@127.0.0.1:5/db?search_path=s1&sslmode=disable" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := WithSearchPath("host=x user=y", "s1"); err == nil {
		t.Fatal("a key=value connection string was accepted")
	}
}

// recorder stands in for a test to see whether unavailable skips or fails it.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

// Under CI a missing database fails the test, saying what to install; elsewhere it
// skips.
func TestUnavailableFailsOnlyInCI(t *testing.T) {
	missing := errors.New("initdb not found")
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	unavailable(r, "PostgreSQL", missing, PostgresInstall)
	if r.skip != "" || !strings.Contains(r.fatal, "apt-get install postgresql") || !strings.Contains(r.fatal, "initdb not found") {
		t.Fatalf("under CI: fatal %q, skip %q; want a failure saying what to install", r.fatal, r.skip)
	}
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	unavailable(r, "PostgreSQL", missing, PostgresInstall)
	if r.fatal != "" || !strings.Contains(r.skip, "apt-get install postgresql") {
		t.Fatalf("outside CI: fatal %q, skip %q; want a skip saying what to install", r.fatal, r.skip)
	}
}

func TestVersionOf(t *testing.T) {
	if v := versionOf("/usr/lib/postgresql/15/bin"); v != 15 {
		t.Fatalf("versionOf = %d, want 15", v)
	}
	if v := versionOf("/usr/lib/postgresql/x/bin"); v != 0 {
		t.Fatalf("versionOf of a non-number = %d, want 0", v)
	}
}
