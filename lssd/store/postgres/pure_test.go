package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		prefix, end string
		bounded     bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"ab", "ac", true},
		{"a\xff", "b", true},
		{"a\xff\xff", "b", true},
		{"\xfe", "\xff", true},
		{"\xff", "", false},
		{"\xff\xff", "", false},
		{"\x00", "\x01", true},
	} {
		end, bounded := prefixEnd([]byte(tc.prefix))
		if string(end) != tc.end || bounded != tc.bounded {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.prefix, end, bounded, tc.end, tc.bounded)
		}
	}
	// The input is not modified.
	p := []byte("az")
	prefixEnd(p)
	if string(p) != "az" {
		t.Fatalf("prefixEnd changed its input to %q", p)
	}
}

func TestMigrationSteps(t *testing.T) {
	steps, err := migrationSteps(0)
	if err != nil || len(steps) != 3 {
		t.Fatalf("from an empty database: %d steps, %v; want the 3 CREATE TABLEs", len(steps), err)
	}
	if steps, err := migrationSteps(SchemaVersion); err != nil || len(steps) != 0 {
		t.Fatalf("at the current version: %v, %v; want nothing to do", steps, err)
	}
	for _, v := range []int{SchemaVersion + 1, -1} {
		if _, err := migrationSteps(v); !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("version %d: %v, want ErrSchemaTooNew", v, err)
		}
	}
}

func TestRetryable(t *testing.T) {
	for code, want := range map[string]bool{"40001": true, "40P01": true, "23505": false, "42P01": false} {
		err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code})
		if got := retryable(err); got != want {
			t.Errorf("retryable(%s) = %v, want %v", code, got, want)
		}
	}
	if retryable(errors.New("plain")) || retryable(nil) {
		t.Fatal("a non-PostgreSQL error is retryable")
	}
}

func TestBackoffBounded(t *testing.T) {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if d := backoff(attempt); d <= 0 || d > 50*time.Millisecond {
			t.Fatalf("backoff(%d) = %v, want within (0, 50ms]", attempt, d)
		}
	}
}

func TestBounded(t *testing.T) {
	ctx, cancel := bounded(context.Background())
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > DefaultTimeout {
		t.Fatalf("a context without deadline got %v, %v; want one within %v", d, ok, DefaultTimeout)
	}
	want := time.Now().Add(time.Hour)
	parent, cancelParent := context.WithDeadline(context.Background(), want)
	defer cancelParent()
	ctx, cancel = bounded(parent)
	defer cancel()
	if d, _ := ctx.Deadline(); !d.Equal(want) {
		t.Fatalf("the caller's deadline was replaced: %v, want %v", d, want)
	}
}
