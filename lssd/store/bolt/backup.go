package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lssquorum/lss/lssd/store"
	"go.etcd.io/bbolt"
)

// Backups. bolt takes an exclusive file lock for a writer and a shared one for a
// reader, so while lssd runs no other process can open its file, even read-only.
// A running server therefore writes its own backup (Backup, from one read
// transaction: a consistent copy while writes go on), and a stopped server's file
// is copied by BackupFile. Either copy is a complete bolt file that Open accepts.

// Backup writes a consistent copy of the database to w from one read
// transaction; writers are not blocked. If size is not nil, it is called with the
// copy's length before anything is written. It returns the bytes written.
// Cancelling ctx fails the next write to w.
func (b *Backend) Backup(ctx context.Context, w io.Writer, size func(int64)) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !b.enter() {
		return 0, store.ErrClosed
	}
	defer b.running.Done()
	var n int64
	err := b.db.View(func(tx *bbolt.Tx) error {
		if size != nil {
			size(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	return n, err
}

// BackupFile copies the bolt file at path to w while no server holds it: it opens
// the file read-only, waiting at most lockTimeout for the lock, and returns
// ErrLocked if a server has it open.
func BackupFile(ctx context.Context, path string, w io.Writer, lockTimeout time.Duration) (int64, error) {
	db, err := openReadOnly(path, lockTimeout)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if err := db.View(initSchema); err != nil {
		return 0, fmt.Errorf("store/bolt: %s: %w", path, err)
	}
	var n int64
	err = db.View(func(tx *bbolt.Tx) error {
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	return n, err
}

// Verify checks a backup (or any lssd bolt file no server holds): bolt's page
// consistency check, and this layout's schema. It returns the file's Stats.
func Verify(ctx context.Context, path string) (Stats, error) {
	db, err := openReadOnly(path, DefaultLockTimeout)
	if err != nil {
		return Stats{}, err
	}
	b := &Backend{db: db}
	defer b.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		if err := initSchema(tx); err != nil {
			return err
		}
		for err := range tx.Check() {
			return fmt.Errorf("store/bolt: %s is inconsistent: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return Stats{}, err
	}
	return b.Stats(ctx)
}

func openReadOnly(path string, lockTimeout time.Duration) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("store/bolt: open %s: %w (a server holds it)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	return db, nil
}

// ctxWriter fails writes once ctx is done, to bound a copy.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
