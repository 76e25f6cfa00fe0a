package lssdcli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/lssd/store/bolt"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// runBackup runs `lssd backup` in process.
func runBackup(t *testing.T, dataDir, out string) (int, string, string) {
	t.Helper()
	return mainIn(t, "backup", "--datadir", dataDir, "--out", out)
}

// restoreInto makes a data directory from a backup and the original's server key,
// as the README's restore procedure does.
func restoreInto(t *testing.T, backup, keyFrom string) string {
	t.Helper()
	dir := t.TempDir()
	for src, dst := range map[string]string{backup: lssd.BoltFileName, filepath.Join(keyFrom, "server_key"): "server_key"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBackupWhileServingAndRestore(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, "--datadir", dir)
	putAndGet(t, p) // "k" at version 0

	// Writers keep going during the backup: it must not block them, and the copy
	// must be consistent (bolt.Verify checks it before the rename).
	priv, _ := secp256k1.GeneratePrivateKey()
	c := newTestClient(t, p, priv)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var writes atomic.Int64
	go func() {
		defer wg.Done()
		for i := int64(0); ; i++ {
			select {
			case <-done:
				return
			default:
			}
			kvs := []*lsspb.KeyValue{{Key: "busy", Version: i, Value: bytes.Repeat([]byte{byte(i)}, 1000)}}
			reply, err := c.rpc.Put(ctx10(t), &lsspb.PutRequest{Auth: c.auth, Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)})
			if err != nil || !reply.Success {
				t.Errorf("put during backup: %v %v", reply, err)
				return
			}
			writes.Add(1)
		}
	}()
	// The busy client exists (its first write landed) before the backup.
	for deadline := time.Now().Add(10 * time.Second); writes.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no write landed in 10 s")
		}
	}
	out := filepath.Join(t.TempDir(), "lss.db.backup")
	code, stdout, stderr := runBackup(t, dir, out)
	close(done)
	wg.Wait()
	if code != ExitOK || !strings.Contains(stdout, "from the running server") || !strings.Contains(stdout, "2 client(s)") {
		t.Fatalf("backup while serving: %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if writes.Load() < 2 {
		t.Errorf("%d writes completed around the backup, want some during it", writes.Load())
	}
	if _, err := os.Stat(out + ".part"); !os.IsNotExist(err) {
		t.Errorf("%s.part left behind: %v", out, err)
	}
	stop(t, p)

	// Restored: a server on the copy serves what was written before the backup,
	// under the same server_id.
	restored := startBinary(t, "--datadir", restoreInto(t, out, dir))
	if !bytes.Equal(restored.serverID, p.serverID) {
		t.Errorf("restored server_id %x, want %x", restored.serverID, p.serverID)
	}
	rc := newTestClient(t, restored, priv)
	got, err := rc.rpc.Get(ctx10(t), &lsspb.GetRequest{Auth: rc.auth, KeyPrefix: "busy", Nonce: []byte("n")})
	if err != nil || len(got.Kvs) != 1 {
		t.Fatalf("restored Get busy: %v %v", got, err)
	}
	stop(t, restored)
}

func TestBackupOfStoppedServer(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, "--datadir", dir)
	putAndGet(t, p)
	stop(t, p)
	if _, err := os.Stat(filepath.Join(dir, lssd.BackupSocketName)); !os.IsNotExist(err) {
		t.Errorf("backup socket left after a clean stop: %v", err)
	}
	out := filepath.Join(t.TempDir(), "b.db")
	code, stdout, stderr := runBackup(t, dir, out)
	if code != ExitOK || !strings.Contains(stdout, "from the file (server stopped)") {
		t.Fatalf("backup of a stopped server: %d\n%s%s", code, stdout, stderr)
	}
	st, err := bolt.Verify(context.Background(), out)
	if err != nil || st.Clients != 1 {
		t.Fatalf("Verify: %+v, %v; want 1 client", st, err)
	}
}

func TestBackupAfterCrashUsesTheFile(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, "--datadir", dir)
	putAndGet(t, p)
	p.cmd.Process.Kill()
	<-p.done
	// The killed server left its socket; nobody answers on it.
	if _, err := os.Stat(filepath.Join(dir, lssd.BackupSocketName)); err != nil {
		t.Fatalf("socket of the killed server: %v", err)
	}
	code, stdout, stderr := runBackup(t, dir, filepath.Join(t.TempDir(), "b.db"))
	if code != ExitOK || !strings.Contains(stdout, "server stopped") {
		t.Fatalf("backup after a crash: %d\n%s%s", code, stdout, stderr)
	}
}

func TestBackupErrors(t *testing.T) {
	if code, _, stderr := mainIn(t, "backup", "--datadir", t.TempDir()); code != ExitUsage || !strings.Contains(stderr, "--out") {
		t.Errorf("backup without --out: %d %q", code, stderr)
	}
	empty := t.TempDir()
	out := filepath.Join(t.TempDir(), "b.db")
	if code, _, stderr := runBackup(t, empty, out); code != ExitFailure || !strings.Contains(stderr, "no database") {
		t.Errorf("backup of an empty directory: %d %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed backup left %s", out)
	}
}

// A backup written over the data directory's own files would replace the
// running server's database (or journal, or key) with a new file while the
// server goes on writing the old one, unlinked: refused as a usage error,
// whatever path names the file, and nothing is touched.
func TestBackupRefusesTheDataDirectorysOwnFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, err := lssd.Start(context.Background(), lssd.Options{Port: 0, Interface: "127.0.0.1", DataDir: dir, Database: "bolt", Limits: lssd.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Kill()
	db := filepath.Join(dir, lssd.BoltFileName)
	before, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(t.TempDir(), "hard.db")
	if err := os.Link(db, hard); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		db,
		filepath.Join(dir, "..", filepath.Base(dir), lssd.BoltFileName),
		filepath.Join(link, lssd.BoltFileName),
		filepath.Join(dir, lssd.BoltFileName+".commits"),
		filepath.Join(dir, lssd.KeyFileName),
		hard,
	} {
		code, _, stderr := runBackup(t, dir, out)
		if code != ExitUsage || !strings.Contains(stderr, "is the data directory's own") {
			t.Errorf("backup --out %s: status %d, stderr %q; want %d refusing it", out, code, stderr, ExitUsage)
		}
	}
	after, err := os.Stat(db)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the database file was replaced: %v", err)
	}
	if code, _, stderr := runBackup(t, dir, filepath.Join(dir, "backup.db")); code != ExitOK {
		t.Errorf("a backup beside the data directory's files: %d %q", code, stderr)
	}
}
