package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/storetest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openAt opens a Backend on url and closes it when t ends.
func openAt(t *testing.T, url string) *Backend {
	t.Helper()
	b, err := Open(testCtx(t), Options{URL: url})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	url := testdb.PostgresURL(t)
	storetest.Run(t, storetest.Factory{
		Open: func(t *testing.T) store.Backend { return openAt(t, url) },
		Reopen: func(t *testing.T, b store.Backend) store.Backend {
			if err := b.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return openAt(t, url)
		},
	})
}

// Two Backends on one database are two lssd front-ends: racing puts of the same key
// at the same version must have exactly one winner, and every loser must see it.
func TestTwoBackendsRace(t *testing.T) {
	url := testdb.PostgresURL(t)
	storetest.RaceTwoBackends(t, openAt(t, url), openAt(t, url))
}

// Keys are bytes, not text: prefixes ending in 0xff (which have no simple upper
// bound) and keys that are not valid UTF-8 must scan exactly.
func TestBinaryKeyPrefixes(t *testing.T) {
	s := store.New(openAt(t, testdb.PostgresURL(t)), store.Options{})
	client := []byte{0x00, 0xff}
	keys := []string{"", "\x00", "a", "a\xff", "a\xff\x00", "a\xff\xff", "b", "\xfe", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff"}
	var kvs []store.KV
	for _, k := range keys {
		kvs = append(kvs, store.KV{Key: k, Value: []byte("v" + k)})
	}
	if conflicts, err := s.Put(testCtx(t), client, kvs); err != nil || len(conflicts) > 0 {
		t.Fatalf("Put: %v %v", conflicts, err)
	}
	for _, prefix := range []string{"", "a", "a\xff", "a\xff\xff", "\xff", "\xff\xff", "\xfe", "\x00", "c"} {
		got, err := s.Get(testCtx(t), client, prefix)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		var gotKeys []string
		for _, kv := range got {
			gotKeys = append(gotKeys, kv.Key)
		}
		if fmt.Sprintf("%q", gotKeys) != fmt.Sprintf("%q", want) {
			t.Errorf("Get(%q) = %q, want %q", prefix, gotKeys, want)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	url := testdb.PostgresURL(t)
	b := openAt(t, url)
	_ = b.Close()
	conn, err := pgx.Connect(testCtx(t), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(testCtx(t), "UPDATE lss_schema_version SET version = $1", SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err = Open(testCtx(t), Options{URL: url})
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprint(SchemaVersion+1)) {
		t.Fatalf("Open on a newer schema: %v; want ErrSchemaTooNew naming version %d", err, SchemaVersion+1)
	}
}

// A database laid out by the lssd before the txid and proof columns is upgraded in
// place: its values read back without a txid, and new ones can carry one.
func TestUpgradeFromSchemaV1(t *testing.T) {
	url := testdb.PostgresURL(t)
	conn, err := pgx.Connect(testCtx(t), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	client := []byte("v1 client")
	for _, sql := range append(append([]string{}, migrations[0]...),
		`CREATE TABLE lss_schema_version (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)`,
		`INSERT INTO lss_schema_version (version) VALUES (1)`) {
		if _, err := conn.Exec(testCtx(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if _, err := conn.Exec(testCtx(t), `INSERT INTO lss_data (client, key, version, value) VALUES ($1, 'old', 4, 'v')`, client); err != nil {
		t.Fatal(err)
	}
	s := store.New(openAt(t, url), store.Options{})
	kvs, err := s.Get(testCtx(t), client, "")
	if err != nil || len(kvs) != 1 || kvs[0].Version != 4 || string(kvs[0].Value) != "v" || kvs[0].TxID != nil || kvs[0].Proof != nil {
		t.Fatalf("Get after the upgrade = %+v, %v; want old@4 = v without txid or proof", kvs, err)
	}
	txid := make([]byte, 16)
	if _, _, err := s.Restore(testCtx(t), client, []store.KV{{Key: "old", Version: 5, Value: []byte("w"), TxID: txid, Proof: []byte("p")}}); err != nil {
		t.Fatal(err)
	}
	if kvs, err = s.Get(testCtx(t), client, ""); err != nil || len(kvs) != 1 || string(kvs[0].TxID) != string(txid) || string(kvs[0].Proof) != "p" {
		t.Fatalf("Get after a restore with txid = %+v, %v", kvs, err)
	}
	var version int
	if err := conn.QueryRow(testCtx(t), "SELECT version FROM lss_schema_version").Scan(&version); err != nil || version != SchemaVersion {
		t.Fatalf("schema version after the upgrade = %d, %v; want %d", version, err, SchemaVersion)
	}
}

// Front-ends starting together must not trip over each other creating the tables.
func TestConcurrentOpensCreateSchemaOnce(t *testing.T) {
	url := testdb.PostgresURL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := Open(testCtx(t), Options{URL: url})
			if err == nil {
				err = b.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestOpenUnreachableNamesHostNotPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Open(ctx, Options{URL: "postgres://lss:sekrit-pw@" + addr + "/lss?sslmode=disable"})
	if err == nil {
		t.Fatal("Open of an unreachable database succeeded")
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "sekrit-pw") {
		t.Fatalf("error %q: want it to name %s and not the password", err, addr)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := Open(testCtx(t), Options{URL: "postgres://lss:sekrit-pw@127.0.0.1:notaport/lss"})
	if err == nil || !strings.Contains(err.Error(), "bad database URL") || strings.Contains(err.Error(), "sekrit-pw") {
		t.Fatalf("Open with a bad URL: %v; want a bad-URL error without the password", err)
	}
}

func TestClosedBackend(t *testing.T) {
	b := openAt(t, testdb.PostgresURL(t))
	_ = b.Close()
	err := b.Update(testCtx(t), []byte("c"), func(store.Txn) error { return nil })
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Update after Close: %v, want ErrClosed", err)
	}
	if err := b.View(testCtx(t), []byte("c"), func(store.Reader) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("View after Close: %v, want ErrClosed", err)
	}
}

// An error from fn rolls back everything fn wrote.
func TestUpdateErrorRollsBack(t *testing.T) {
	b := openAt(t, testdb.PostgresURL(t))
	client := []byte("rollback")
	boom := errors.New("boom")
	err := b.Update(testCtx(t), client, func(tx store.Txn) error {
		if err := tx.Set(store.KV{Key: "a", Value: []byte("x")}); err != nil {
			return err
		}
		if err := tx.Reserve("a", []byte("0123456789abcdef")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	err = b.View(testCtx(t), client, func(r store.Reader) error {
		if _, ok, err := r.Get("a"); ok || err != nil {
			return fmt.Errorf("key written by a failed Update is present (err %v)", err)
		}
		if _, ok, err := r.Reservation("a"); ok || err != nil {
			return fmt.Errorf("reservation made by a failed Update is present (err %v)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The longest key lssd accepts by default (1024 bytes, incompressible) fits the
// primary-key index, which caps an entry at about 2700 bytes.
func TestLongKey(t *testing.T) {
	s := store.New(openAt(t, testdb.PostgresURL(t)), store.Options{})
	key := make([]byte, 1024)
	_, _ = rand.Read(key)
	kvs := []store.KV{{Key: string(key), Value: []byte("v")}}
	if conflicts, err := s.Put(testCtx(t), []byte("long"), kvs); err != nil || len(conflicts) > 0 {
		t.Fatalf("Put of a 1024-byte key: %v %v", conflicts, err)
	}
	if got, err := s.Get(testCtx(t), []byte("long"), string(key[:10])); err != nil || len(got) != 1 || got[0].Key != string(key) {
		t.Fatalf("Get: %v %v", got, err)
	}
}

// Inside one Update, a reservation read along with a key's value must reflect the
// Update's own Reserve and Release.
func TestReservationReadsOwnWrites(t *testing.T) {
	b := openAt(t, testdb.PostgresURL(t))
	txid := []byte("0123456789abcdef")
	err := b.Update(testCtx(t), []byte("own writes"), func(tx store.Txn) error {
		want := func(step string, wantOK bool) error {
			got, ok, err := tx.Reservation("a")
			if err != nil || ok != wantOK || (ok && string(got) != string(txid)) {
				return fmt.Errorf("%s: Reservation = %q, %v, %v; want held %v", step, got, ok, err, wantOK)
			}
			return nil
		}
		if _, _, err := tx.Get("a"); err != nil {
			return err
		}
		if err := want("before Reserve", false); err != nil {
			return err
		}
		if err := tx.Reserve("a", txid); err != nil {
			return err
		}
		if err := want("after Reserve", true); err != nil {
			return err
		}
		if _, _, err := tx.Get("a"); err != nil {
			return err
		}
		if err := want("after Reserve and Get", true); err != nil {
			return err
		}
		if err := tx.Release("a"); err != nil {
			return err
		}
		return want("after Release", false)
	})
	if err != nil {
		t.Fatal(err)
	}
}
