package lssd

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
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

// boltDataDir returns options for a bolt data directory that an lssd started
// on once (so it holds its database and server key) and stopped.
func boltDataDir(t *testing.T) Options {
	t.Helper()
	opts := testOptions(t)
	opts.Database = "bolt"
	d := startDaemon(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	return opts
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
	opts := boltDataDir(t)
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

// A --database changed by mistake would serve an empty store under the same
// server_id: the daemon warns, naming the database it leaves unserved; a data
// directory holding only its own database gets no such warning.
func TestDaemonWarnsOfAnUnservedDatabase(t *testing.T) {
	t.Parallel()
	opts := boltDataDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, tc := range []struct {
		database string
		warn     bool
	}{{"bolt", false}, {"pebble", true}, {"memory", true}} {
		logs := &syncWriter{w: &bytes.Buffer{}}
		o := opts
		o.Database = tc.database
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		d := startDaemon(t, o)
		if err := d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(logs.String(), "holds a bolt database this server does not serve")
		if got != tc.warn || tc.warn && !strings.Contains(logs.String(), "--database bolt") {
			t.Errorf("--database %s over a bolt data directory: warned=%v, want %v; logs:\n%s", tc.database, got, tc.warn, logs.String())
		}
	}
	// Now the directory holds a pebble database too: bolt warns of it.
	logs := &syncWriter{w: &bytes.Buffer{}}
	o := opts
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	startDaemon(t, o)
	if !strings.Contains(logs.String(), "holds a pebble database this server does not serve") {
		t.Errorf("--database bolt beside a pebble database: no warning; logs:\n%s", logs.String())
	}
}
