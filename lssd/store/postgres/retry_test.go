package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/lssd/store"
)

// An Update that keeps failing to serialize gives up after maxAttempts runs with
// ErrContention (lssd answers ABORTED, retry) and writes nothing; under a short
// deadline it gives up at the deadline instead.
func TestUpdateGivesUpOnContention(t *testing.T) {
	b := openAt(t, testdb.PostgresURL(t))
	client := []byte("contention")
	runs := 0
	err := b.Update(testCtx(t), client, func(tx store.Txn) error {
		runs++
		if err := tx.Set(store.KV{Key: "a", Value: []byte("x")}); err != nil {
			return err
		}
		return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	})
	if !errors.Is(err, store.ErrContention) || runs != maxAttempts {
		t.Fatalf("Update = %v after %d runs; want ErrContention after %d", err, runs, maxAttempts)
	}
	if err := b.View(testCtx(t), client, func(r store.Reader) error {
		if _, ok, err := r.Get("a"); ok || err != nil {
			return fmt.Errorf("a write of a given-up Update is present (err %v)", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	runs = 0
	start := time.Now()
	err = b.Update(ctx, client, func(store.Txn) error {
		runs++
		time.Sleep(5 * time.Millisecond)
		return &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
	})
	if !errors.Is(err, context.DeadlineExceeded) || runs >= maxAttempts || time.Since(start) > 2*time.Second {
		t.Fatalf("Update under a 30ms deadline = %v after %d runs and %v; want the deadline's error, sooner",
			err, runs, time.Since(start))
	}
}

// A connection lost before commit is run again on a fresh connection a bounded
// number of times, then reported as ErrUnavailable.
func TestUpdateGivesUpOnLostConnections(t *testing.T) {
	b := openAt(t, testdb.PostgresURL(t))
	runs := 0
	err := b.Update(testCtx(t), []byte("lost"), func(store.Txn) error {
		runs++
		return &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
	})
	if !errors.Is(err, store.ErrUnavailable) || runs != 1+maxReconnects {
		t.Fatalf("Update = %v after %d runs; want ErrUnavailable after %d", err, runs, 1+maxReconnects)
	}
	// A failure the database does not explain by its connection is not retried.
	runs = 0
	err = b.Update(testCtx(t), []byte("lost"), func(store.Txn) error {
		runs++
		return &pgconn.PgError{Code: "53100", Message: "could not extend file: No space left on device"}
	})
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrContention) || runs != 1 {
		t.Fatalf("Update on a full disk = %v after %d runs; want the error as it is, after one run", err, runs)
	}
}

// The database's own idea of a connection problem, and the network's, make the
// connection lost; a refusal that a reconnect does not cure does not.
func TestConnectionLost(t *testing.T) {
	for code, want := range map[string]bool{
		"08006": true, "08001": true, "57P01": true, "57P02": true, "57P03": true, "53300": true,
		"40001": false, "23505": false, "28P01": false, "53100": false, "42P01": false,
	} {
		if got := connectionLost(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code})); got != want {
			t.Errorf("connectionLost(SQLSTATE %s) = %v, want %v", code, got, want)
		}
	}
	if connectionLost(errors.New("boom")) || connectionLost(store.ErrInvalid) {
		t.Error("connectionLost of a plain error")
	}
}
