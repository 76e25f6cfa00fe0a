package lssd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lssquorum/lss/lssd/store/bolt"
)

// BackupSocketName is the Unix socket in the data directory through which a
// running lssd with the embedded database hands out consistent backups (see
// `lssd backup`). It is created mode 0600 in the 0700 data directory, so only the
// user lssd runs as (and root) can take a backup; nothing is exposed on the
// network.
const BackupSocketName = "backup.sock"

// BackupPath is the HTTP path a backup is served at on the socket.
const BackupPath = "/backup"

// backupServer serves bolt backups on the data directory's socket.
type backupServer struct {
	srv  *http.Server
	path string
	done chan struct{}
}

// startBackupServer listens on dataDir's socket, replacing a stale one: the bolt
// file lock is already held, so no other lssd serves this directory.
func startBackupServer(dataDir string, b *bolt.Backend, log *slog.Logger) (*backupServer, error) {
	path := filepath.Join(dataDir, BackupSocketName)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("lssd: backup socket: %w", err)
	}
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("lssd: backup socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return nil, fmt.Errorf("lssd: backup socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+BackupPath, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set("Content-Type", "application/octet-stream")
		// The snapshot's length, known before it is written, lets the client tell
		// a complete copy from a cut one.
		n, err := b.Backup(r.Context(), w, func(size int64) {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		})
		if err != nil && n == 0 {
			log.Error("backup failed", "err", err)
			http.Error(w, "backup failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if err != nil {
			log.Error("backup failed", "err", err, "bytes", n)
			return // the client sees a body shorter than its length and fails
		}
		log.Info("backup taken", "bytes", n, "took", time.Since(start))
	})
	bs := &backupServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, path: path, done: make(chan struct{})}
	go func() {
		defer close(bs.done)
		if err := bs.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("backup socket stopped", "err", err)
		}
	}()
	return bs, nil
}

// stop ends the socket, letting a backup in progress finish until ctx is done,
// and removes the socket file.
func (bs *backupServer) stop(ctx context.Context) {
	if err := bs.srv.Shutdown(ctx); err != nil {
		bs.srv.Close()
	}
	<-bs.done
	os.Remove(bs.path)
}
