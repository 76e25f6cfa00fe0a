package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"syscall"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// The database's layout: one ordered key space.
//
//	0x00 "schema"                             → schema version, uint32 BE
//	0x01 len(client) uint16 BE  client  'd' key  → store.EncodeValue
//	0x01 len(client) uint16 BE  client  'r' key  → txid of the reservation
//	0x01 len(client) uint16 BE  client  't' txid → store.EncodeRecord
//
// The length before the client id makes every client's prefix free of every
// other's (no client id is a prefix of another's namespace), and the kind byte
// after it keeps a client's data, reservations and records in separate ranges,
// so a prefix scan of the data is one bounded iteration.
const (
	metaTag   = 0x00
	clientTag = 0x01

	kindData        = 'd'
	kindReservation = 'r'
	kindRecord      = 't'
)

var schemaKey = []byte("\x00schema")

// schemaVersion is the layout this code reads and writes. Change it, with a
// migration, whenever the layout changes.
const schemaVersion = 1

// maxClientLen is the longest client id a namespace prefix can hold.
const maxClientLen = 1<<16 - 1

// ErrUnknownSchema is returned by Open for a database written with a layout this
// code does not know (a newer lssd, or not an lssd database at all).
var ErrUnknownSchema = errors.New("unknown store schema")

// namespace returns the prefix of client's keys (without the kind byte).
func namespace(client []byte) ([]byte, error) {
	if len(client) == 0 {
		return nil, errors.New("store/pebble: empty client id")
	}
	if len(client) > maxClientLen {
		return nil, fmt.Errorf("store/pebble: client id of %d bytes is longer than %d", len(client), maxClientLen)
	}
	ns := make([]byte, 0, 3+len(client))
	ns = append(ns, clientTag)
	ns = binary.BigEndian.AppendUint16(ns, uint16(len(client)))
	return append(ns, client...), nil
}

// key returns the database key of name under kind in namespace ns.
func key(ns []byte, kind byte, name string) []byte {
	k := make([]byte, 0, len(ns)+1+len(name))
	k = append(k, ns...)
	k = append(k, kind)
	return append(k, name...)
}

// prefixEnd returns the smallest key greater than every key starting with p, or
// nil if there is none (p is all 0xff). Our prefixes always contain a kind byte
// below 0xff, so the result is never nil for them.
func prefixEnd(p []byte) []byte {
	end := append([]byte{}, p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// initSchema writes the schema version into a fresh database and checks the
// version of an existing one. A database holding keys but no version was not
// written by lssd and is refused rather than mixed with.
func initSchema(db *pebbledb.DB) error {
	v, closer, err := db.Get(schemaKey)
	if err == nil {
		defer closer.Close()
		if len(v) != 4 {
			return fmt.Errorf("%w: schema version is %d bytes, want 4", ErrUnknownSchema, len(v))
		}
		if got := binary.BigEndian.Uint32(v); got != schemaVersion {
			return fmt.Errorf("%w: the database has schema version %d; this lssd reads version %d", ErrUnknownSchema, got, schemaVersion)
		}
		return nil
	}
	if !errors.Is(err, pebbledb.ErrNotFound) {
		return err
	}
	it, err := db.NewIter(nil)
	if err != nil {
		return err
	}
	var foreign []byte
	if it.First() {
		foreign = append([]byte{}, it.Key()...)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	if foreign != nil {
		return fmt.Errorf("%w: the database has key %q but no schema version; it was not written by lssd", ErrUnknownSchema, foreign)
	}
	return db.Set(schemaKey, binary.BigEndian.AppendUint32(nil, schemaVersion), pebbledb.Sync)
}

// isLockError reports whether Open failed because the directory is in use: by
// another process (the LOCK file's fcntl lock is refused with EAGAIN or EACCES) or
// by another Backend in this one (Pebble refuses that itself, with no sentinel).
func isLockError(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) ||
		strings.Contains(err.Error(), "lock held by current process")
}
