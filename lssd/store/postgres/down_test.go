package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lssquorum/lss/internal/cutproxy"
	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/lssd/store"
)

// downApp names the connections of TestDatabaseDownAndBack's Backend.
const downApp = "lss_down_test"

// The database going away mid-run fails writes with ErrUnavailable at once, not
// at the caller's deadline, loses no acknowledged write, and the same Backend
// serves again once the database is back, also when every connection in its
// pool died in a restart it did not see.
func TestDatabaseDownAndBack(t *testing.T) {
	u, proxy := cutproxy.Through(t, testdb.PostgresURL(t))
	u += "&application_name=" + downApp
	b := openAt(t, u)
	s := store.New(b, store.Options{})
	client := []byte("down and back")
	put := func(key string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conflicts, err := s.Put(ctx, client, []store.KV{{Key: key, Value: []byte(key)}})
		if err == nil && len(conflicts) > 0 {
			t.Fatalf("Put(%s): conflicts %v", key, conflicts)
		}
		return err
	}
	if err := put("acked"); err != nil {
		t.Fatal(err)
	}
	// Fill the pool, then restart the database under it.
	var conns []*pgxpool.Conn
	for range b.pool.Config().MaxConns {
		c, err := b.pool.Acquire(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
	proxy.Cut()
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	if err := put("after restart"); err != nil {
		t.Fatalf("Put after the database restarted: %v", err)
	}
	// The server ending the backend's connections itself (57P01, as at a fast
	// shutdown) is the same: the next call gets a fresh connection.
	conn, err := pgx.Connect(testCtx(t), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var ended int
	if err := conn.QueryRow(testCtx(t), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, downApp).Scan(&ended); err != nil || ended == 0 {
		t.Fatalf("terminating the backend's connections: %d ended, %v", ended, err)
	}
	if err := put("after terminate"); err != nil {
		t.Fatalf("Put after the server ended the connections: %v", err)
	}

	proxy.Cut()
	start := time.Now()
	err = put("while down")
	if !errors.Is(err, store.ErrUnavailable) || time.Since(start) > 5*time.Second {
		t.Fatalf("Put while the database is down = %v after %v; want ErrUnavailable at once", err, time.Since(start))
	}
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	if err := put("back"); err != nil {
		t.Fatalf("Put once the database is back: %v", err)
	}
	kvs, err := s.Get(testCtx(t), client, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range kvs {
		keys = append(keys, kv.Key)
	}
	if want := "[acked after restart after terminate back]"; fmt.Sprint(keys) != want {
		t.Fatalf("after the outage the store holds %q; want the acknowledged %s", keys, want)
	}
}
