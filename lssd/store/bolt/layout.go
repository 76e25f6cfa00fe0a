package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// The file's layout. Top level: a meta bucket holding the schema version, and a
// clients bucket holding one bucket per client id. Each client's bucket holds three
// buckets: data (tagged key → store.EncodeValue), reservations (tagged key → txid)
// and records (txid → store.EncodeRecord). Keeping clients under their own parent
// bucket means no client id can collide with the meta bucket.
var (
	metaBucket         = []byte("meta")
	schemaKey          = []byte("schema")
	clientsBucket      = []byte("clients")
	dataBucket         = []byte("data")
	reservationsBucket = []byte("reservations")
	recordsBucket      = []byte("records")
)

// schemaVersion is the layout this code reads and writes. Change it, with a
// migration, whenever the layout changes.
const schemaVersion = 1

// keyTag is put before every key in the data and reservations buckets: bolt refuses
// an empty key, and the protocol allows one. One leading byte keeps byte order, so a
// prefix scan is still a cursor seek.
const keyTag = 'k'

// maxKeyLen is the longest key bolt can store once tagged.
const maxKeyLen = bbolt.MaxKeySize - 1

// ErrUnknownSchema is returned by Open for a file written with a layout this code
// does not know (a newer lssd, or not an lssd file at all).
var ErrUnknownSchema = errors.New("unknown store schema")

func tagged(key string) []byte {
	b := make([]byte, 1+len(key))
	b[0] = keyTag
	copy(b[1:], key)
	return b
}

// checkKey refuses a key bolt cannot store, before anything is written, so that a
// failed write never leaves half a transaction behind.
func checkKey(key string) error {
	if len(key) > maxKeyLen {
		return fmt.Errorf("store/bolt: key of %d bytes is longer than the %d bytes bolt can store", len(key), maxKeyLen)
	}
	return nil
}

// checkTxID refuses a txid bolt cannot use as a key.
func checkTxID(txid []byte) error {
	if len(txid) == 0 || len(txid) > bbolt.MaxKeySize {
		return fmt.Errorf("store/bolt: txid of %d bytes cannot be stored", len(txid))
	}
	return nil
}

// checkClient refuses a client id bolt cannot use as a bucket name.
func checkClient(client []byte) error {
	if len(client) == 0 {
		return errors.New("store/bolt: empty client id")
	}
	if len(client) > bbolt.MaxKeySize {
		return fmt.Errorf("store/bolt: client id of %d bytes is longer than %d", len(client), bbolt.MaxKeySize)
	}
	return nil
}

// initSchema creates the layout in a fresh file and checks the version of an
// existing one.
func initSchema(tx *bbolt.Tx) error {
	meta := tx.Bucket(metaBucket)
	if meta == nil {
		var foreign []byte
		_ = tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			foreign = append([]byte{}, name...)
			return errors.New("stop")
		})
		if foreign != nil {
			return fmt.Errorf("%w: the file has bucket %q but no schema version; it was not written by lssd", ErrUnknownSchema, foreign)
		}
		meta, err := tx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		if err := meta.Put(schemaKey, binary.BigEndian.AppendUint32(nil, schemaVersion)); err != nil {
			return err
		}
		_, err = tx.CreateBucket(clientsBucket)
		return err
	}
	v := meta.Get(schemaKey)
	if len(v) != 4 {
		return fmt.Errorf("%w: schema version is %d bytes, want 4", ErrUnknownSchema, len(v))
	}
	if got := binary.BigEndian.Uint32(v); got != schemaVersion {
		return fmt.Errorf("%w: the file has schema version %d; this lssd reads version %d", ErrUnknownSchema, got, schemaVersion)
	}
	if tx.Bucket(clientsBucket) == nil {
		return fmt.Errorf("%w: schema version %d but no %s bucket", ErrUnknownSchema, schemaVersion, clientsBucket)
	}
	return nil
}
