package postgres_test

import (
	"testing"

	"github.com/lssquorum/lss/internal/frontrace"
	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/lssd"
)

// Two lssd front-ends on one PostgreSQL database keep the version rule.
func TestTwoFrontEnds(t *testing.T) {
	url := testdb.PostgresURL(t)
	frontrace.Run(t, func(o *lssd.Options) {
		o.Database = "postgres"
		o.PostgresURL = url
	})
}
