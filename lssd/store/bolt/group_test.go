package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/lssquorum/lss/lssd/store"
)

var client = []byte("client")

// blockLeader starts an Update whose function waits for release, so that the
// Updates queued after it are all committed together in the next batch. It returns
// release, which lets the blocked Update finish, and its result.
func blockLeader(t *testing.T, b *Backend) (release func(), result <-chan error) {
	t.Helper()
	running := make(chan struct{})
	unblock := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- b.Update(context.Background(), client, func(tx store.Txn) error {
			close(running)
			<-unblock
			return tx.Set(store.KV{Key: "leader", Value: []byte("L")})
		})
	}()
	<-running
	var once sync.Once
	release = func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	return release, done
}

// waitQueued waits until n Updates are queued behind the running batch.
func waitQueued(t *testing.T, b *Backend, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		queued := len(b.queue)
		b.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Updates queued, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// update starts an Update in the background and returns its result channel.
func update(ctx context.Context, b *Backend, fn func(store.Txn) error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- b.Update(ctx, client, fn) }()
	return done
}

func set(key, value string) func(store.Txn) error {
	return func(tx store.Txn) error { return tx.Set(store.KV{Key: key, Value: []byte(value)}) }
}

func wait(t *testing.T, what string, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

func keys(t *testing.T, b *Backend) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := b.View(context.Background(), client, func(r store.Reader) error {
		kvs, err := r.Scan("")
		for _, kv := range kvs {
			got[kv.Key] = string(kv.Value)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestGroupCommitBatches(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	release, leader := blockLeader(t, b)
	const n = 31
	var results []<-chan error
	for i := range n {
		results = append(results, update(context.Background(), b, set(fmt.Sprintf("k%02d", i), "v")))
	}
	waitQueued(t, b, n)
	release()
	if err := wait(t, "leader", leader); err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if err := wait(t, fmt.Sprint("Update ", i), r); err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
	}
	if got := b.commits.Load(); got != 2 {
		t.Fatalf("%d commits for 1 + %d Updates, want 2 (the blocked one, then one batch)", got, n)
	}
	if got := len(keys(t, b)); got != n+1 {
		t.Fatalf("%d keys written, want %d", got, n+1)
	}
}

func TestNoGroupCommitCommitsEach(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{NoGroupCommit: true})
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Update(context.Background(), client, set(fmt.Sprint(i), "v")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := b.commits.Load(); got != n {
		t.Fatalf("%d commits for %d Updates, want one each", got, n)
	}
}

// A lone writer commits at once: sequential Updates are never held back to wait
// for company, so each is its own commit.
func TestLoneWriterCommitsAlone(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	const n = 20
	start := time.Now()
	for i := range n {
		if err := b.Update(context.Background(), client, set(fmt.Sprint(i), "v")); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.commits.Load(); got != n {
		t.Fatalf("%d commits for %d sequential Updates", got, n)
	}
	t.Logf("%v per sequential Update", time.Since(start)/n)
}

// TestBatchIsolatesFailures runs a batch where one function writes and then fails:
// its writes must vanish while the functions before and after it keep theirs, and
// later functions see earlier ones' writes but never the failed one's. The batch is
// rolled back and run again without the failed function.
func TestBatchIsolatesFailures(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	release, leader := blockLeader(t, b)
	errFail := errors.New("fn failed")
	seen := make(chan string, 2)

	first := update(context.Background(), b, set("first", "1"))
	waitQueued(t, b, 1)
	failing := update(context.Background(), b, func(tx store.Txn) error {
		if err := tx.Set(store.KV{Key: "failed", Value: []byte("x")}); err != nil {
			return err
		}
		if err := tx.Reserve("first", []byte("some txid")); err != nil {
			return err
		}
		if err := tx.SetRecord(store.Record{TxID: []byte("some txid"), State: store.TxPrepared}); err != nil {
			return err
		}
		return errFail
	})
	waitQueued(t, b, 2)
	after := update(context.Background(), b, func(tx store.Txn) error {
		kvs, err := tx.Scan("")
		if err != nil {
			return err
		}
		var s string
		for _, kv := range kvs {
			s += kv.Key + " "
		}
		seen <- s
		if _, ok, _ := tx.Reservation("first"); ok {
			return errors.New("sees the failed function's reservation")
		}
		if _, ok, _ := tx.Record([]byte("some txid")); ok {
			return errors.New("sees the failed function's record")
		}
		return tx.Set(store.KV{Key: "last", Value: []byte("3")})
	})
	waitQueued(t, b, 3)
	release()
	for _, r := range []struct {
		name string
		ch   <-chan error
		want error
	}{{"leader", leader, nil}, {"first", first, nil}, {"failing", failing, errFail}, {"after", after, nil}} {
		if err := wait(t, r.name, r.ch); !errors.Is(err, r.want) && err != r.want {
			t.Fatalf("%s: %v, want %v", r.name, err, r.want)
		}
	}
	if s := <-seen; s != "first leader " {
		t.Fatalf("the last function saw keys %q, want the leader's and the first's only", s)
	}
	got := keys(t, b)
	if len(got) != 3 || got["first"] != "1" || got["last"] != "3" || got["leader"] != "L" {
		t.Fatalf("stored %v, want leader, first and last", got)
	}
	if got := b.commits.Load(); got != 2 {
		t.Fatalf("%d commits, want 2", got)
	}
	if n := len(seen); n != 0 {
		t.Fatalf("the last function ran %d more times", n)
	}
	recs, err := store.New(b, store.Options{}).Transactions(context.Background(), client)
	if err != nil || len(recs) != 0 {
		t.Fatalf("%d records, %v; want none", len(recs), err)
	}
}

// TestBatchRetriesWithoutRefusedWrite plants a bucket where a key's value belongs,
// so bolt refuses that key's write while the batch is applied: the batch is rolled
// back and committed again without the refused call.
func TestBatchRetriesWithoutRefusedWrite(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	if err := b.Update(context.Background(), client, set("seed", "s")); err != nil {
		t.Fatal(err)
	}
	if err := b.db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.Bucket(clientsBucket).Bucket(client).Bucket(dataBucket).CreateBucket(tagged("trap"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	release, leader := blockLeader(t, b)
	before := update(context.Background(), b, set("before", "1"))
	waitQueued(t, b, 1)
	trapped := update(context.Background(), b, set("trap", "x"))
	waitQueued(t, b, 2)
	behind := update(context.Background(), b, set("behind", "2"))
	waitQueued(t, b, 3)
	commits := b.commits.Load()
	release()
	for name, ch := range map[string]<-chan error{"leader": leader, "before": before, "behind": behind} {
		if err := wait(t, name, ch); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := wait(t, "trapped", trapped); !errors.Is(err, bbolt.ErrIncompatibleValue) {
		t.Fatalf("trapped: %v, want bolt's refusal", err)
	}
	if err := b.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(clientsBucket).Bucket(client).Bucket(dataBucket).DeleteBucket(tagged("trap"))
	}); err != nil {
		t.Fatal(err)
	}
	got := keys(t, b)
	if len(got) != 4 || got["before"] != "1" || got["behind"] != "2" {
		t.Fatalf("stored %v, want seed, leader, before and behind", got)
	}
	if n := b.commits.Load() - commits; n != 2 {
		t.Fatalf("%d commits, want 2 (the leader, then the batch without the refused call)", n)
	}
}

func TestCanceledWhileQueued(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	release, leader := blockLeader(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	canceled := update(ctx, b, func(tx store.Txn) error {
		ran = true
		return tx.Set(store.KV{Key: "canceled"})
	})
	waitQueued(t, b, 1)
	kept := update(context.Background(), b, set("kept", "k"))
	waitQueued(t, b, 2)
	cancel()
	release()
	if err := wait(t, "leader", leader); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, "canceled", canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Update: %v, want context.Canceled", err)
	}
	if err := wait(t, "kept", kept); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Fatal("the canceled Update's function ran")
	}
	if got := keys(t, b); len(got) != 2 || got["kept"] != "k" {
		t.Fatalf("stored %v, want leader and kept", got)
	}
	// An Update whose context is already done never queues.
	if err := b.Update(ctx, client, set("late", "x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Update with a done context: %v", err)
	}
}

// TestCloseWaitsForQueued closes the backend while a batch runs and others wait:
// Close returns only after every queued Update has been committed, and they persist.
func TestCloseWaitsForQueued(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	b, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	release, leader := blockLeader(t, b)
	var queued []<-chan error
	for i := range 4 {
		queued = append(queued, update(context.Background(), b, set(fmt.Sprint("q", i), "v")))
	}
	waitQueued(t, b, 4)
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	// Wait until Close has shut the door, then check it is still waiting.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		shut := b.closed
		b.mu.Unlock()
		if shut {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Close did not start")
		}
		time.Sleep(time.Millisecond)
	}
	if err := b.Update(context.Background(), client, set("refused", "x")); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Update during Close: %v, want ErrClosed", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a batch was running", err)
	case <-time.After(20 * time.Millisecond):
	}
	release()
	if err := wait(t, "Close", closed); err != nil {
		t.Fatal(err)
	}
	for i, q := range append(queued, leader) {
		if err := wait(t, fmt.Sprint("Update ", i), q); err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
	}
	b = mustOpen(t, path, Options{})
	if got := keys(t, b); len(got) != 5 {
		t.Fatalf("after reopening: %v, want the leader's and 4 queued keys", got)
	}
}

// TestPanicInBatch checks that a panicking function rolls back its batch, fails the
// other callers in it with an error instead of leaving them waiting, and leaves the
// backend usable.
func TestPanicInBatch(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	release, leader := blockLeader(t, b)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_ = b.Update(context.Background(), client, func(store.Txn) error { panic("boom") })
	}()
	waitQueued(t, b, 1)
	other := update(context.Background(), b, set("other", "o"))
	waitQueued(t, b, 2)
	release()
	if err := wait(t, "leader", leader); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-panicked:
		if p != "boom" {
			t.Fatalf("recovered %v, want the function's panic", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the panicking Update did not return")
	}
	if err := wait(t, "other", other); !errors.Is(err, errLeaderPanicked) {
		t.Fatalf("other Update in the batch: %v, want errLeaderPanicked", err)
	}
	if got := keys(t, b); len(got) != 1 {
		t.Fatalf("stored %v, want only the leader's key", got)
	}
	if err := b.Update(context.Background(), client, set("after", "a")); err != nil {
		t.Fatalf("Update after the panic: %v", err)
	}
}

// TestFailureWithoutWritesKeepsBatch runs a batch where one function fails before
// writing anything, as Store's functions do: the batch commits at the first try and
// every function runs exactly once.
func TestFailureWithoutWritesKeepsBatch(t *testing.T) {
	t.Parallel()
	b := mustOpen(t, tempPath(t), Options{})
	release, leader := blockLeader(t, b)
	var mu sync.Mutex
	runs := map[string]int{}
	counted := func(name string, fn func(store.Txn) error) func(store.Txn) error {
		return func(tx store.Txn) error {
			mu.Lock()
			runs[name]++
			mu.Unlock()
			return fn(tx)
		}
	}
	errFail := errors.New("checked and refused")
	var results []<-chan error
	for i, fn := range []func(store.Txn) error{
		counted("a", set("a", "1")),
		counted("refuses", func(tx store.Txn) error {
			if _, _, err := tx.Get("a"); err != nil {
				return err
			}
			tx.Release("not reserved") // nothing to release: no change
			return errFail
		}),
		counted("c", set("c", "3")),
	} {
		results = append(results, update(context.Background(), b, fn))
		waitQueued(t, b, i+1)
	}
	release()
	if err := wait(t, "leader", leader); err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, errFail, nil} {
		if err := wait(t, fmt.Sprint("Update ", i), results[i]); !errors.Is(err, want) && err != want {
			t.Fatalf("Update %d: %v, want %v", i, err, want)
		}
	}
	if runs["a"] != 1 || runs["refuses"] != 1 || runs["c"] != 1 {
		t.Fatalf("runs %v, want each function once", runs)
	}
	if got := keys(t, b); len(got) != 3 || got["a"] != "1" || got["c"] != "3" {
		t.Fatalf("stored %v, want leader, a and c", got)
	}
	if got := b.commits.Load(); got != 2 {
		t.Fatalf("%d commits, want 2", got)
	}
}
