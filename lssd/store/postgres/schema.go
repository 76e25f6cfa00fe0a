package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaVersion is the table layout this code reads and writes.
const SchemaVersion = 2

// ErrSchemaTooNew means the database was laid out by a newer lssd; this one cannot
// use it without risking corruption.
var ErrSchemaTooNew = errors.New("database schema is newer than this lssd supports")

// migrations[i] takes the layout from version i to version i+1; version 0 is an
// empty database.
var migrations = [][]string{
	{
		`CREATE TABLE lss_data (
			client  bytea  NOT NULL,
			key     bytea  NOT NULL,
			version bigint NOT NULL,
			value   bytea  NOT NULL,
			PRIMARY KEY (client, key))`,
		`CREATE TABLE lss_reservations (
			client bytea NOT NULL,
			key    bytea NOT NULL,
			txid   bytea NOT NULL,
			PRIMARY KEY (client, key))`,
		`CREATE TABLE lss_records (
			client bytea NOT NULL,
			txid   bytea NOT NULL,
			record bytea NOT NULL,
			PRIMARY KEY (client, txid))`,
	},
	// Version 2: the transaction that wrote each value and its commit proof (NULL
	// for a plain put).
	{
		`ALTER TABLE lss_data ADD COLUMN txid bytea, ADD COLUMN proof bytea`,
	},
}

// migrationLockID is the advisory lock that serializes migrations, so front-ends
// starting together do not race to create the same tables.
const migrationLockID = 0x4c53535f53434845 // "LSS_SCHE"

// migrationSteps returns the statements that take the layout from version current
// to SchemaVersion.
func migrationSteps(current int) ([]string, error) {
	if current < 0 || current > SchemaVersion {
		return nil, fmt.Errorf("%w: database has schema version %d, this lssd knows up to %d; upgrade lssd",
			ErrSchemaTooNew, current, SchemaVersion)
	}
	var steps []string
	for _, m := range migrations[current:] {
		steps = append(steps, m...)
	}
	return steps, nil
}

// migrate creates or upgrades the tables in one transaction, under an advisory lock.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS lss_schema_version (
			one     boolean PRIMARY KEY DEFAULT true CHECK (one),
			version integer NOT NULL)`); err != nil {
			return err
		}
		current := 0
		err := tx.QueryRow(ctx, "SELECT version FROM lss_schema_version").Scan(&current)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		steps, err := migrationSteps(current)
		if err != nil || len(steps) == 0 {
			return err
		}
		for _, sql := range steps {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("migrating schema from version %d: %w", current, err)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO lss_schema_version (version) VALUES ($1)
			ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version`, SchemaVersion)
		return err
	})
}
