package lssdcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/lssquorum/lss/internal/durable"
	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/lssd/store/bolt"
)

func newBackupCommand() *cobra.Command {
	var dataDir, out string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the embedded (bolt) database, while the server runs or not",
		Long: `backup copies DATADIR/` + lssd.BoltFileName + ` to FILE as one consistent snapshot.

While lssd runs, the copy comes from the server itself, through the Unix socket
DATADIR/` + lssd.BackupSocketName + ` (only the user lssd runs as can use it): a bolt file cannot
be opened by a second process while the server holds it, and the server writes the
snapshot from one read transaction without blocking writers. While lssd is
stopped, backup reads the file directly.

The copy is written to FILE.part, synced, checked (bolt's consistency check and
the schema) and only then renamed to FILE, replacing it. The server key
(DATADIR/server_key) is not in the copy: back it up once, separately, and keep
it secret. See the README for restoring.

For --database postgres or etcd, use pg_dump or etcdctl snapshot save.`,
		Args: cmdmain.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return cmdmain.Usagef("--out FILE is required")
			}
			dir, err := expandHome(dataDir)
			if err != nil {
				return err
			}
			if err := refuseDataFile(dir, out); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := backup(ctx, dir, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup of %s written to %s: %d bytes, %d client(s), %d prepared transaction(s); taken %s\n",
				filepath.Join(dir, lssd.BoltFileName), out, res.bytes, res.stats.Clients, res.stats.Prepared, res.how)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "datadir", "~/.lss", "the server's data directory")
	f.StringVarP(&out, "out", "o", "", "file to write the backup to (replaced if it exists)")
	f.DurationVar(&timeout, "timeout", 30*time.Minute, "deadline for the whole backup")
	return cmd
}

// backupResult is what a backup did.
type backupResult struct {
	bytes int64
	stats bolt.Stats
	how   string // "from the running server" or "from the file (server stopped)"
}

// backup copies dataDir's database to out: through the running server's socket
// if one answers, else from the file.
func backup(ctx context.Context, dataDir, out string) (backupResult, error) {
	db := filepath.Join(dataDir, lssd.BoltFileName)
	if _, err := os.Stat(db); err != nil {
		return backupResult{}, fmt.Errorf("no database to back up: %w", err)
	}
	part := out + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return backupResult{}, err
	}
	res, err := copyDatabase(ctx, dataDir, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		res.stats, err = bolt.Verify(ctx, part)
	}
	if err == nil {
		err = os.Rename(part, out)
	}
	if err != nil {
		os.Remove(part)
		return backupResult{}, fmt.Errorf("backup of %s: %w", db, err)
	}
	return res, durable.SyncDir(filepath.Dir(out))
}

// copyDatabase writes the snapshot to w and says how it was taken.
func copyDatabase(ctx context.Context, dataDir string, w io.Writer) (backupResult, error) {
	n, err := fromServer(ctx, filepath.Join(dataDir, lssd.BackupSocketName), w)
	if err == nil {
		return backupResult{bytes: n, how: "from the running server"}, nil
	}
	if !errors.Is(err, errNoServer) {
		return backupResult{}, err
	}
	n, err = bolt.BackupFile(ctx, filepath.Join(dataDir, lssd.BoltFileName), w, bolt.DefaultLockTimeout)
	if errors.Is(err, bolt.ErrLocked) {
		return backupResult{}, fmt.Errorf("%w; the server holding it does not answer on %s (an lssd older than online backups?): stop it and run backup again",
			err, filepath.Join(dataDir, lssd.BackupSocketName))
	}
	return backupResult{bytes: n, how: "from the file (server stopped)"}, err
}

// errNoServer: no server listens on the backup socket.
var errNoServer = errors.New("no server on the backup socket")

// fromServer fetches a backup from the server listening on sock.
func fromServer(ctx context.Context, sock string, w io.Writer) (int64, error) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://lssd"+lssd.BackupPath, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		// A missing socket, or a stale one left by a server that died.
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return 0, errNoServer
		}
		return 0, fmt.Errorf("backup through %s: %w", sock, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return 0, fmt.Errorf("backup through %s: %s: %s", sock, resp.Status, msg)
	}
	if resp.ContentLength < 0 {
		return 0, fmt.Errorf("backup through %s: the server did not say the snapshot's length", sock)
	}
	// A body shorter than its Content-Length fails with io.ErrUnexpectedEOF.
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("backup through %s: %w", sock, err)
	}
	return n, nil
}

// dataFiles are the names in a data directory that lssd owns: a backup written
// over one of them would replace, say, the database of a running server with
// a new file while the server goes on writing the old one, unlinked, so that
// everything written after is lost at its next start.
var dataFiles = []string{lssd.BoltFileName, lssd.BoltFileName + ".commits", lssd.KeyFileName, lssd.BackupSocketName, lssd.PebbleDirName}

// refuseDataFile is a usage error when out is one of dataDir's own files, by
// name (through symbolic links) or as the same file (a hard link).
func refuseDataFile(dataDir, out string) error {
	refuse := func(name string) error {
		return cmdmain.Usagef("--out %s is the data directory's own %s: write the backup elsewhere (another disk, ideally)", out, name)
	}
	if info, err := os.Stat(out); err == nil {
		for _, name := range dataFiles {
			if own, err := os.Stat(filepath.Join(dataDir, name)); err == nil && os.SameFile(info, own) {
				return refuse(name)
			}
		}
	}
	outDir, err1 := filepath.EvalSymlinks(filepath.Dir(out))
	dir, err2 := filepath.EvalSymlinks(dataDir)
	if err1 != nil || err2 != nil {
		return nil // nothing there to replace; the write says what is missing
	}
	if outDir, err1 = filepath.Abs(outDir); err1 != nil {
		return nil
	}
	if dir, err2 = filepath.Abs(dir); err2 != nil {
		return nil
	}
	for _, name := range dataFiles {
		if outDir == dir && filepath.Base(out) == name {
			return refuse(name)
		}
	}
	return nil
}
