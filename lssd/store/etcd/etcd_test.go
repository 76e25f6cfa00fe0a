package etcd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

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

// testPrefix returns a key prefix no other test uses.
func testPrefix(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "lss-test-" + hex.EncodeToString(b[:]) + "/"
}

// openAt opens a Backend and closes it when t ends.
func openAt(t *testing.T, prefix string) *Backend {
	t.Helper()
	b, err := Open(testCtx(t), Options{Endpoints: testdb.EtcdEndpoints(t), Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	prefix := testPrefix(t)
	storetest.Run(t, storetest.Factory{
		Open: func(t *testing.T) store.Backend { return openAt(t, prefix) },
		Reopen: func(t *testing.T, b store.Backend) store.Backend {
			if err := b.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return openAt(t, prefix)
		},
	})
}

// Two Backends on one cluster are two lssd front-ends: racing puts of the same key
// at the same version must have exactly one winner, and every loser must see it.
func TestTwoBackendsRace(t *testing.T) {
	prefix := testPrefix(t)
	storetest.RaceTwoBackends(t, openAt(t, prefix), openAt(t, prefix))
}

// Pruning reads a range of records; a record deleted by another front-end between
// that read and the commit leaves nothing to compare key by key, so the range guard
// must catch it and the prune must run again rather than count a record twice.
func TestRangeReadGuard(t *testing.T) {
	b := openAt(t, testPrefix(t))
	client := []byte("range guard")
	txid := []byte("0123456789abcdef")
	if err := b.Update(testCtx(t), client, func(tx store.Txn) error {
		return tx.SetRecord(store.Record{TxID: txid, State: store.TxAborted})
	}); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err := b.Update(testCtx(t), client, func(tx store.Txn) error {
		runs++
		recs, err := tx.Records()
		if err != nil {
			return err
		}
		if runs == 1 {
			if len(recs) != 1 {
				return fmt.Errorf("first run saw %d records, want 1", len(recs))
			}
			// Another writer deletes the record after this snapshot.
			if err := b.Update(testCtx(t), client, func(tx store.Txn) error { return tx.DeleteRecord(txid) }); err != nil {
				return err
			}
		} else if len(recs) != 0 {
			return fmt.Errorf("rerun saw %d records, want 0", len(recs))
		}
		return tx.Set(store.KV{Key: "pruned", Version: int64(len(recs))})
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Fatalf("fn ran %d times, want 2 (the stale first run must not commit)", runs)
	}
}

// A View sees one revision even while writes land between its reads.
func TestViewIsOneSnapshot(t *testing.T) {
	b := openAt(t, testPrefix(t))
	client := []byte("snapshot")
	set := func(key string, version int64) {
		t.Helper()
		if err := b.Update(testCtx(t), client, func(tx store.Txn) error {
			return tx.Set(store.KV{Key: key, Version: version})
		}); err != nil {
			t.Fatal(err)
		}
	}
	set("a", 0)
	set("b", 0)
	err := b.View(testCtx(t), client, func(r store.Reader) error {
		if _, _, err := r.Get("a"); err != nil {
			return err
		}
		set("b", 1)
		set("c", 0)
		kv, _, err := r.Get("b")
		if err != nil || kv.Version != 0 {
			return fmt.Errorf("b read at version %d (%v) after the snapshot, want 0", kv.Version, err)
		}
		all, err := r.Scan("")
		if err != nil || len(all) != 2 {
			return fmt.Errorf("scan saw %d keys (%v), want the snapshot's 2", len(all), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerLayout(t *testing.T) {
	prefix := testPrefix(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: testdb.EtcdEndpoints(t), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(testCtx(t), schemaKey(prefix), fmt.Sprint(SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(testCtx(t), Options{Endpoints: testdb.EtcdEndpoints(t), Prefix: prefix})
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprint(SchemaVersion+1)) {
		t.Fatalf("Open on a newer layout: %v; want ErrSchemaTooNew naming version %d", err, SchemaVersion+1)
	}
	// The same prefix at the current version opens.
	if _, err := cli.Put(testCtx(t), schemaKey(prefix), fmt.Sprint(SchemaVersion)); err != nil {
		t.Fatal(err)
	}
	openAt(t, prefix)
}

func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = Open(context.Background(), Options{Endpoints: []string{addr}, DialTimeout: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("Open of an unreachable cluster: %v; want an error naming %s", err, addr)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("Open took %v to give up; the dial timeout was 500ms", elapsed)
	}
	if _, err := Open(context.Background(), Options{}); err == nil {
		t.Fatal("Open with no endpoints succeeded")
	}
}

func TestClosedBackend(t *testing.T) {
	b := openAt(t, testPrefix(t))
	_ = b.Close()
	if err := b.Update(testCtx(t), []byte("c"), func(store.Txn) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Update after Close: %v, want ErrClosed", err)
	}
	if err := b.View(testCtx(t), []byte("c"), func(store.Reader) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("View after Close: %v, want ErrClosed", err)
	}
}

// An error from fn commits nothing.
func TestUpdateErrorWritesNothing(t *testing.T) {
	b := openAt(t, testPrefix(t))
	client := []byte("rollback")
	boom := errors.New("boom")
	err := b.Update(testCtx(t), client, func(tx store.Txn) error {
		if err := tx.Set(store.KV{Key: "a", Value: []byte("x")}); err != nil {
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
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An update too big for the cluster's transaction limits fails with an error that
// says which limit to raise.
func TestTooManyOpsIsExplained(t *testing.T) {
	b := openAt(t, testPrefix(t))
	err := b.Update(testCtx(t), []byte("big"), func(tx store.Txn) error {
		for i := range testdb.EtcdMaxTxnOps + 1 {
			if err := tx.SetRecord(store.Record{TxID: fmt.Appendf(nil, "txid-%016d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "--max-txn-ops") {
		t.Fatalf("oversized update: %v; want an error naming --max-txn-ops", err)
	}
}

// Front-ends starting together on an empty prefix agree on the layout version.
func TestConcurrentOpens(t *testing.T) {
	prefix := testPrefix(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := Open(testCtx(t), Options{Endpoints: testdb.EtcdEndpoints(t), Prefix: prefix})
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
