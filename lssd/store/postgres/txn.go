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
	// reservations caches each key's reservation as this transaction sees it.
	// Get reads a key's reservation along with its value (the version rule always
	// asks for both), saving a round trip per key; Reserve and Release keep it
	// current.
	reservations map[string]reservation
}

type reservation struct {
	txid []byte
	ok   bool
}

func newTxn(ctx context.Context, tx pgx.Tx, client []byte) *txn {
	return &txn{ctx: ctx, tx: tx, client: nonNil(client), reservations: map[string]reservation{}}
}

func (t *txn) Get(key string) (store.KV, bool, error) {
	var version *int64
	var value, writer, proof, txid []byte
	err := t.tx.QueryRow(t.ctx, `SELECT d.version, d.value, d.txid, d.proof, r.txid
		FROM (SELECT $1::bytea AS client, $2::bytea AS key) AS k
		LEFT JOIN lss_data AS d ON d.client = k.client AND d.key = k.key
		LEFT JOIN lss_reservations AS r ON r.client = k.client AND r.key = k.key`,
		t.client, []byte(key)).Scan(&version, &value, &writer, &proof, &txid)
	if err != nil {
		return store.KV{}, false, err
	}
	t.reservations[key] = reservation{txid: txid, ok: txid != nil}
	if version == nil {
		return store.KV{}, false, nil
	}
	return store.KV{Key: key, Version: *version, Value: value, TxID: writer, Proof: proof}, true, nil
}

func (t *txn) Scan(prefix string) ([]store.KV, error) {
	var rows pgx.Rows
	var err error
	if end, bounded := prefixEnd([]byte(prefix)); bounded {
		rows, err = t.tx.Query(t.ctx, `SELECT key, version, value, txid, proof FROM lss_data
			WHERE client = $1 AND key >= $2 AND key < $3 ORDER BY key`, t.client, []byte(prefix), end)
	} else {
		rows, err = t.tx.Query(t.ctx, `SELECT key, version, value, txid, proof FROM lss_data
			WHERE client = $1 AND key >= $2 ORDER BY key`, t.client, []byte(prefix))
	}
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.KV, error) {
		var key []byte
		var kv store.KV
		err := row.Scan(&key, &kv.Version, &kv.Value, &kv.TxID, &kv.Proof)
		kv.Key = string(key)
		return kv, err
	})
}

func (t *txn) Reservation(key string) ([]byte, bool, error) {
	if r, ok := t.reservations[key]; ok {
		return r.txid, r.ok, nil
	}
	var txid []byte
	err := t.tx.QueryRow(t.ctx, "SELECT txid FROM lss_reservations WHERE client = $1 AND key = $2",
		t.client, []byte(key)).Scan(&txid)
	if errors.Is(err, pgx.ErrNoRows) {
		t.reservations[key] = reservation{}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	t.reservations[key] = reservation{txid: txid, ok: true}
	return txid, true, nil
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
	_, err := t.tx.Exec(t.ctx, `INSERT INTO lss_data (client, key, version, value, txid, proof) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (client, key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value,
			txid = EXCLUDED.txid, proof = EXCLUDED.proof`,
		t.client, []byte(kv.Key), kv.Version, nonNil(kv.Value), nilIfEmpty(kv.TxID), nilIfEmpty(kv.Proof))
	return err
}

func (t *txn) Reserve(key string, txid []byte) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO lss_reservations (client, key, txid) VALUES ($1, $2, $3)
		ON CONFLICT (client, key) DO UPDATE SET txid = EXCLUDED.txid`,
		t.client, []byte(key), nonNil(txid))
	if err != nil {
		return err
	}
	t.reservations[key] = reservation{txid: append([]byte{}, txid...), ok: true}
	return nil
}

func (t *txn) Release(key string) error {
	_, err := t.tx.Exec(t.ctx, "DELETE FROM lss_reservations WHERE client = $1 AND key = $2",
		t.client, []byte(key))
	if err != nil {
		return err
	}
	t.reservations[key] = reservation{}
	return nil
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

// rangeBatch bounds the rows one query of a ranged read fetches: a read bounded
// by bytes asks again from where it stopped rather than for every row at once.
const rangeBatch = 64

func (t *txn) ScanRange(prefix string, after *string, b store.Bound) ([]store.KV, error) {
	var from []byte
	if after != nil {
		from = []byte(*after)
	}
	from = nonNil(store.SeekStart([]byte(prefix), from))
	end, bounded := prefixEnd([]byte(prefix))
	q := `SELECT key, version, value, txid, proof FROM lss_data WHERE client = $1 AND key >= $2 ORDER BY key LIMIT $3`
	if bounded {
		q = `SELECT key, version, value, txid, proof FROM lss_data
			WHERE client = $1 AND key >= $2 AND key < $4 ORDER BY key LIMIT $3`
	}
	var out []store.KV
	g := b.Budget()
	for {
		n := batchSize(g)
		args := []any{t.client, from, n}
		if bounded {
			args = append(args, end)
		}
		rows, err := t.tx.Query(t.ctx, q, args...)
		if err != nil {
			return nil, err
		}
		got, done := 0, false
		for rows.Next() {
			var key []byte
			var kv store.KV
			if err := rows.Scan(&key, &kv.Version, &kv.Value, &kv.TxID, &kv.Proof); err != nil {
				rows.Close()
				return nil, err
			}
			kv.Key = string(key)
			out = append(out, kv)
			got++
			if !g.Take(kv.Size()) {
				done = true
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if done || got < n {
			return out, nil
		}
		from = store.After([]byte(out[len(out)-1].Key))
	}
}

func (t *txn) RecordsRange(after []byte, b store.Bound) ([]store.Record, error) {
	var from []byte
	if len(after) > 0 {
		from = store.After(after)
	}
	from = nonNil(from)
	var out []store.Record
	g := b.Budget()
	for {
		n := batchSize(g)
		rows, err := t.tx.Query(t.ctx, `SELECT txid, record FROM lss_records WHERE client = $1 AND txid >= $2
			ORDER BY txid LIMIT $3`, t.client, from, n)
		if err != nil {
			return nil, err
		}
		got, done := 0, false
		var last []byte
		for rows.Next() {
			var txid, b []byte
			if err := rows.Scan(&txid, &b); err != nil {
				rows.Close()
				return nil, err
			}
			rec, err := store.DecodeRecord(b)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out, last = append(out, rec), txid
			got++
			if !g.Take(rec.Size()) {
				done = true
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if done || got < n {
			return out, nil
		}
		from = store.After(last)
	}
}

// batchSize is how many rows the next query of a ranged read asks for.
func batchSize(g *store.Budget) int {
	if r := g.Remaining(); r > 0 && r < rangeBatch {
		return r
	}
	return rangeBatch
}
