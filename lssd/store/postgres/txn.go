package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/lssquorum/lss/lssd/store"
)

// txn is one client's namespace inside a PostgreSQL transaction.
type txn struct {
	ctx    context.Context
	tx     pgx.Tx
	client []byte
}

func (t *txn) Get(key string) (store.KV, bool, error) {
	kv := store.KV{Key: key}
	err := t.tx.QueryRow(t.ctx, "SELECT version, value FROM lss_data WHERE client = $1 AND key = $2",
		t.client, []byte(key)).Scan(&kv.Version, &kv.Value)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.KV{}, false, nil
	}
	return kv, err == nil, err
}

func (t *txn) Scan(prefix string) ([]store.KV, error) {
	var rows pgx.Rows
	var err error
	if end, bounded := prefixEnd([]byte(prefix)); bounded {
		rows, err = t.tx.Query(t.ctx, `SELECT key, version, value FROM lss_data
			WHERE client = $1 AND key >= $2 AND key < $3 ORDER BY key`, t.client, []byte(prefix), end)
	} else {
		rows, err = t.tx.Query(t.ctx, `SELECT key, version, value FROM lss_data
			WHERE client = $1 AND key >= $2 ORDER BY key`, t.client, []byte(prefix))
	}
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.KV, error) {
		var key []byte
		var kv store.KV
		err := row.Scan(&key, &kv.Version, &kv.Value)
		kv.Key = string(key)
		return kv, err
	})
}

func (t *txn) Reservation(key string) ([]byte, bool, error) {
	var txid []byte
	err := t.tx.QueryRow(t.ctx, "SELECT txid FROM lss_reservations WHERE client = $1 AND key = $2",
		t.client, []byte(key)).Scan(&txid)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return txid, err == nil, err
}

func (t *txn) Record(txid []byte) (store.Record, bool, error) {
	var b []byte
	err := t.tx.QueryRow(t.ctx, "SELECT record FROM lss_records WHERE client = $1 AND txid = $2",
		t.client, nonNil(txid)).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, false, nil
	}
	if err != nil {
		return store.Record{}, false, err
	}
	rec, err := store.DecodeRecord(b)
	return rec, err == nil, err
}

func (t *txn) Records() ([]store.Record, error) {
	rows, err := t.tx.Query(t.ctx, "SELECT record FROM lss_records WHERE client = $1 ORDER BY txid", t.client)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Record, error) {
		var b []byte
		if err := row.Scan(&b); err != nil {
			return store.Record{}, err
		}
		return store.DecodeRecord(b)
	})
}

func (t *txn) Set(kv store.KV) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO lss_data (client, key, version, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (client, key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value`,
		t.client, []byte(kv.Key), kv.Version, nonNil(kv.Value))
	return err
}

func (t *txn) Reserve(key string, txid []byte) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO lss_reservations (client, key, txid) VALUES ($1, $2, $3)
		ON CONFLICT (client, key) DO UPDATE SET txid = EXCLUDED.txid`,
		t.client, []byte(key), nonNil(txid))
	return err
}

func (t *txn) Release(key string) error {
	_, err := t.tx.Exec(t.ctx, "DELETE FROM lss_reservations WHERE client = $1 AND key = $2",
		t.client, []byte(key))
	return err
}

func (t *txn) SetRecord(rec store.Record) error {
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO lss_records (client, txid, record) VALUES ($1, $2, $3)
		ON CONFLICT (client, txid) DO UPDATE SET record = EXCLUDED.record`,
		t.client, nonNil(rec.TxID), b)
	return err
}

func (t *txn) DeleteRecord(txid []byte) error {
	_, err := t.tx.Exec(t.ctx, "DELETE FROM lss_records WHERE client = $1 AND txid = $2",
		t.client, nonNil(txid))
	return err
}
