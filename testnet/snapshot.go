package testnet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lssquorum/lss/internal/durable"
)

// Snapshot is a copy of one provider's data directory at one moment, to roll the
// provider back to later. The zero Snapshot is invalid.
type Snapshot struct {
	provider string
	dir      string
	taken    time.Time
}

// Provider is the name of the provider the snapshot was taken from.
func (s Snapshot) Provider() string { return s.provider }

// Taken is when the snapshot was taken.
func (s Snapshot) Taken() time.Time { return s.taken }

// snapshotStore hands out directories for snapshots under one root.
type snapshotStore struct {
	root string
	mu   sync.Mutex
	next int
}

func (s *snapshotStore) newDir(provider string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	return filepath.Join(s.root, fmt.Sprintf("%s-%d", provider, s.next))
}

// Snapshot copies the provider's data directory. A running server is stopped for
// the copy, because a bolt file is only consistent with no writer, and started
// again; a stopped one stays stopped.
func (p *Provider) Snapshot() (Snapshot, error) {
	p.ops.Lock()
	defer p.ops.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	snap := Snapshot{provider: p.name, dir: p.snaps.newDir(p.name)}
	err := p.whileStopped(ctx, func() error {
		snap.taken = time.Now()
		return copyDir(p.dataDir, snap.dir)
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("testnet: snapshot %s: %w", p.name, err)
	}
	p.logger.Info("provider snapshot taken", "snapshot", snap.dir)
	return snap, nil
}

// Rollback stops the server, replaces its data directory with the snapshot and
// starts it: the provider then serves the old data, with the same server key, as a
// rollback attack would. The server is started even if it was stopped before.
func (p *Provider) Rollback(ctx context.Context, s Snapshot) error {
	if s.dir == "" {
		return errors.New("testnet: rollback: empty snapshot")
	}
	if s.provider != p.name {
		return fmt.Errorf("testnet: rollback %s: the snapshot was taken from %s", p.name, s.provider)
	}
	p.ops.Lock()
	defer p.ops.Unlock()
	if err := p.stop(ctx); err != nil {
		return err
	}
	if err := replaceDir(p.dataDir, s.dir); err != nil {
		return fmt.Errorf("testnet: rollback %s: %w", p.name, err)
	}
	p.logger.Info("provider rolled back", "snapshot", s.dir, "taken", s.taken)
	return p.start(ctx)
}

// replaceDir makes dst's contents an exact copy of src's.
func replaceDir(dst, src string) error {
	entries, err := os.ReadDir(dst)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return copyDir(src, dst)
}

// copyDir copies the tree at src to dst (created if needed), syncing every file
// and directory so that the copy is as durable as the original.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, info.Mode().Perm()); err != nil {
				return err
			}
			return nil
		case info.Mode().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
			return durable.SyncDir(filepath.Dir(target))
		default:
			return fmt.Errorf("cannot copy %s: not a regular file or directory", path)
		}
	})
}

func copyFile(src, dst string, perm os.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := out.ReadFrom(in); err != nil {
		return err
	}
	return out.Sync()
}
