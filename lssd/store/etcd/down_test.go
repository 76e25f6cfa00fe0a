package etcd

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lssquorum/lss/internal/cutproxy"
	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/lssd/store"
)

// An Update whose reads another writer keeps changing gives up after
// maxAttempts runs with ErrTooManyConflicts, a store.ErrContention (lssd answers
// ABORTED, retry), and writes nothing; under a short deadline it gives up at the
// deadline instead.
func TestUpdateGivesUpOnContention(t *testing.T) {
	b := openAt(t, testPrefix(t))
	client := []byte("contention")
	racing := func(runs *int) func(store.Txn) error {
		return func(tx store.Txn) error {
			*runs++
			if _, _, err := tx.Get("a"); err != nil {
				return err
			}
			// Another front-end changes what this run read.
			if err := b.Update(testCtx(t), client, func(tx store.Txn) error {
				return tx.Set(store.KV{Key: "a", Version: int64(*runs)})
			}); err != nil {
				return err
			}
			return tx.Set(store.KV{Key: "b", Value: []byte("x")})
		}
	}
	runs := 0
	err := b.Update(testCtx(t), client, racing(&runs))
	if !errors.Is(err, ErrTooManyConflicts) || !errors.Is(err, store.ErrContention) || runs != maxAttempts {
		t.Fatalf("Update = %v after %d runs; want ErrTooManyConflicts (ErrContention) after %d", err, runs, maxAttempts)
	}
	if err := b.View(testCtx(t), client, func(r store.Reader) error {
		if _, ok, err := r.Get("b"); ok || err != nil {
			return fmt.Errorf("a write of a given-up Update is present (err %v)", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	runs = 0
	start := time.Now()
	err = b.Update(ctx, client, racing(&runs))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrContention) || runs >= maxAttempts || time.Since(start) > 2*time.Second {
		t.Fatalf("Update under a 50ms deadline = %v after %d runs and %v; want the deadline's error, sooner",
			err, runs, time.Since(start))
	}
}

// The cluster going away mid-run fails writes with ErrUnavailable, at once once
// the client found no member to connect to (not at the caller's deadline),
// loses no acknowledged write, and the same Backend serves again soon after the
// cluster is back, however long it was away.
func TestClusterDownAndBack(t *testing.T) {
	endpoint, proxy := cutproxy.Through(t, testdb.EtcdEndpoints(t)[0])
	b, err := Open(testCtx(t), Options{Endpoints: []string{endpoint}, Prefix: testPrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	b.timeout = time.Second
	s := store.New(b, store.Options{})
	client := []byte("down and back")
	put := func(ctx context.Context, key string) error {
		conflicts, err := s.Put(ctx, client, []store.KV{{Key: key, Value: []byte(key)}})
		if err == nil && len(conflicts) > 0 {
			t.Fatalf("Put(%s): conflicts %v", key, conflicts)
		}
		return err
	}
	if err := put(testCtx(t), "acked"); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	// The first call may meet the client still connecting, and wait for its
	// deadline, or (without one) this package's own bound.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := put(ctx, "while down"); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Put under a deadline while the cluster is down = %v; want its deadline or ErrUnavailable", err)
	}
	if err := put(context.Background(), "while down"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Put without a deadline while the cluster is down = %v; want ErrUnavailable", err)
	}
	// Once the client failed to connect, a call fails after the next attempt
	// to reconnect, not at its deadline.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := put(ctx, "while down"); !errors.Is(err, store.ErrUnavailable) || time.Since(start) > 3*time.Second {
		t.Fatalf("Put under a 10s deadline while the cluster is down = %v after %v; want ErrUnavailable within %v",
			err, time.Since(start), reconnectWait)
	}
	// Long enough that gRPC's default reconnect backoff (1s growing by 1.6x)
	// would next try seconds after the cluster is back.
	time.Sleep(10 * time.Second)
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := put(ctx, "back"); err != nil {
		t.Fatalf("Put once the cluster is back: %v", err)
	}
	t.Logf("served again %v after the cluster came back", time.Since(back))
	kvs, err := s.Get(testCtx(t), client, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range kvs {
		keys = append(keys, kv.Key)
	}
	if fmt.Sprint(keys) != "[acked back]" {
		t.Fatalf("after the outage the store holds %q; want the acknowledged [acked back]", keys)
	}
}
