package lssd

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// startErr starts a daemon that must fail, and returns its error.
func startErr(t *testing.T, opts Options) error {
	t.Helper()
	d, err := Start(context.Background(), opts)
	if err == nil {
		d.Kill()
		t.Fatal("Start succeeded")
	}
	return err
}

// mentions fails the test unless err says every one of wants.
func mentions(t *testing.T, err error, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// A second lssd on a data directory an lssd already serves is refused at
// start, naming the database file and the other lssd, for both embedded
// databases; once the first stopped, the directory starts again.
func TestDaemonRefusesADataDirInUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ database, file string }{{"bolt", BoltFileName}, {"pebble", PebbleDirName}} {
		t.Run(tc.database, func(t *testing.T) {
			t.Parallel()
			opts := testOptions(t)
			opts.Database = tc.database
			first, err := Start(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			err = startErr(t, opts)
			mentions(t, err, filepath.Join(opts.DataDir, tc.file), "locked by another lssd")
			c := newClient(t, dial(t, first.Addr()), first.ServerID())
			c.mustPut(kv("k", 0, "v")) // the first one still serves
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := first.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			startDaemon(t, opts)
		})
	}
}

// A bolt file written by a newer lssd (a schema this one does not know) is
// refused at start with both versions, and left as it was.
func TestDaemonRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.Database = "bolt"
	d := startDaemon(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(opts.DataDir, BoltFileName)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint32(nil, 2))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = startErr(t, opts)
	mentions(t, err, path, "schema version 2", "reads version 1")
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a refused start changed the database file")
	}
}

// A data directory that cannot be created or written is refused at start,
// naming it.
func TestDaemonUnwritableDataDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, database := range []string{"bolt", "pebble", "memory"} {
		opts := testOptions(t)
		opts.Database = database
		opts.DataDir = filepath.Join(file, "lss")
		err := startErr(t, opts)
		mentions(t, err, "data directory", file, "not a directory")
	}
}
