package postgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"

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
	if err != nil || len(steps) != 4 {
		t.Fatalf("from an empty database: %d steps, %v; want the 3 CREATE TABLEs and the txid/proof columns", len(steps), err)
	}
	if steps, err := migrationSteps(1); err != nil || len(steps) != 1 || !strings.Contains(steps[0], "ADD COLUMN txid") {
		t.Fatalf("from version 1: %q, %v; want the txid/proof columns added", steps, err)
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
