package pebble_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/lssquorum/lss/lssd/store"
	"github.com/lssquorum/lss/lssd/store/pebble"
)

// gatedFS holds every fsync of the write-ahead log while its gate is shut, so a
// test can look at the database while a synced write is written but not yet
// durable.
type gatedFS struct {
	vfs.FS
	mu      sync.Mutex
	shut    chan struct{} // closed to open the gate; nil when open
	entered chan struct{} // receives when a sync waits at the gate
}

func (fs *gatedFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(name, f), err
}

func (fs *gatedFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.wrap(newname, f), err
}

func (fs *gatedFS) wrap(name string, f vfs.File) vfs.File {
	if f == nil || !strings.HasSuffix(name, ".log") {
		return f
	}
	return gatedFile{File: f, fs: fs}
}

// shutGate makes the next log syncs wait until the returned function opens it.
func (fs *gatedFS) shutGate() (open func()) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	ch := make(chan struct{})
	fs.shut = ch
	return func() {
		fs.mu.Lock()
		fs.shut = nil
		fs.mu.Unlock()
		close(ch)
	}
}

func (fs *gatedFS) wait() {
	fs.mu.Lock()
	ch := fs.shut
	fs.mu.Unlock()
	if ch != nil {
		select {
		case fs.entered <- struct{}{}:
		default:
		}
		<-ch
	}
}

type gatedFile struct {
	vfs.File
	fs *gatedFS
}

func (f gatedFile) Sync() error     { f.fs.wait(); return f.File.Sync() }
func (f gatedFile) SyncData() error { f.fs.wait(); return f.File.SyncData() }
func (f gatedFile) SyncTo(n int64) (bool, error) {
	f.fs.wait()
	return f.File.SyncTo(n)
}

// TestViewWaitsForSync checks the package's promise that a read never returns a
// write a machine crash could still take back: a Get of a client waits while a
// Put of that client is written but not yet fsynced, and then sees it; another
// client's reads do not wait.
func TestViewWaitsForSync(t *testing.T) {
	fs := &gatedFS{FS: vfs.NewMem(), entered: make(chan struct{}, 1)}
	b, err := pebble.Open(context.Background(), pebble.Options{Dir: "db", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	s := store.New(b, store.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, other := []byte("client"), []byte("other")
	for _, c := range [][]byte{client, other} {
		if conflicts, err := s.Put(ctx, c, []store.KV{kv("a", 0, "A")}); err != nil || len(conflicts) > 0 {
			t.Fatalf("Put: %v %v", conflicts, err)
		}
	}

	open := shutOnce(fs)
	defer open()
	putDone := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, client, []store.KV{kv("a", 1, "A'")})
		putDone <- err
	}()
	select {
	case <-fs.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the Put never reached the log's fsync")
	}
	// Pebble applies and publishes the batch while its fsync runs; give it time.
	time.Sleep(50 * time.Millisecond)
	type read struct {
		kvs []store.KV
		err error
	}
	got := make(chan read, 1)
	go func() {
		kvs, err := s.Get(ctx, client, "")
		got <- read{kvs, err}
	}()
	if kvs, err := s.Get(ctx, other, ""); err != nil || len(kvs) != 1 {
		t.Fatalf("another client's Get = %v, %v", kvs, err)
	}
	select {
	case r := <-got:
		t.Fatalf("Get returned %v, %v while the Put before it was not yet fsynced", r.kvs, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	open()
	if err := <-putDone; err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || len(r.kvs) != 1 || r.kvs[0].Version != 1 || !bytes.Equal(r.kvs[0].Value, []byte("A'")) {
		t.Fatalf("Get after the fsync = %v, %v; want a@1", r.kvs, r.err)
	}
}

// shutOnce shuts fs's gate and returns a function that opens it, safe to call
// more than once.
func shutOnce(fs *gatedFS) func() {
	var once sync.Once
	open := fs.shutGate()
	return func() { once.Do(open) }
}
