// Package frontrace checks what an operator relies on when running several
// stateless lssd front-ends over one shared database (PostgreSQL or etcd): racing
// writes of the same key at the same version through different front-ends never
// both succeed. It drives real daemons over loopback gRPC with the provider client,
// so every reply HMAC is verified on the way.
package frontrace

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/provider"
)

// Fronts is how many front-ends Run starts.
const Fronts = 2

// Per front-end and round: how many writers race with Put, and how many with
// Prepare (the atomic-commit path, which reserves the key instead of writing it).
const (
	putWriters     = 2
	prepareWriters = 1
	rounds         = 4
)

// Run starts Fronts lssd daemons, each configured by configure (which names the
// shared database), sharing one server key as front-ends of one provider do. For
// each of several versions of one key, writers on every front-end race to write
// it, some with Put and some with Prepare. It requires exactly one winner per
// version; every loser must be refused with a conflict naming the key and showing
// the winner's write (its value, or its reservation); the losers' other keys must
// not be written; and every front-end must then read the winner's value.
func Run(t *testing.T, configure func(*lssd.Options)) {
	t.Helper()
	addrs, serverID := startFronts(t, configure)
	key, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	var writers []*writer
	for f, addr := range addrs {
		for i := range putWriters + prepareWriters {
			c, err := provider.Dial(testCtx(t), provider.Options{Addr: addr, ServerID: serverID, ClientKey: key})
			if err != nil {
				t.Fatalf("dial front-end %d: %v", f, err)
			}
			t.Cleanup(func() { c.Close() })
			writers = append(writers, &writer{name: fmt.Sprintf("front%d-%d", f, i), c: c, prepare: i >= putWriters})
		}
	}
	for version := range int64(rounds) {
		race(t, writers, version)
	}
}

// writer is one racing client connection to one front-end.
type writer struct {
	name    string
	c       *provider.Client
	prepare bool

	// One round's outcome.
	txid    []byte
	entries []provider.Entry
	err     error
}

func (w *writer) value(version int64) []byte { return fmt.Appendf(nil, "%s@%d", w.name, version) }
func (w *writer) ownKey(version int64) string {
	return fmt.Sprintf("own/%s/%d", w.name, version)
}

// write tries to write "k" at version, together with a key of the writer's own.
func (w *writer) write(ctx context.Context, version int64) {
	kvs := []provider.KV{{Key: "k", Version: version, Value: w.value(version)}, {Key: w.ownKey(version), Version: 0, Value: []byte("x")}}
	if !w.prepare {
		w.err = w.c.Put(ctx, kvs)
		return
	}
	w.txid = make([]byte, 32)
	_, _ = rand.Read(w.txid)
	var state provider.TxState
	w.entries = w.c.Seal(kvs)
	state, w.err = w.c.Prepare(ctx, w.txid, provider.Quorum{}, nil, w.entries)
	if w.err == nil && state != provider.TxPrepared {
		w.err = fmt.Errorf("prepare of a fresh txid answered %v", state)
	}
}

// race runs one round and checks its outcome.
func race(t *testing.T, writers []*writer, version int64) {
	t.Helper()
	ctx := testCtx(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			w.write(ctx, version)
		}()
	}
	close(start)
	wg.Wait()

	var winner *writer
	for _, w := range writers {
		switch {
		case w.err == nil && winner != nil:
			t.Fatalf("version %d: %s and %s both succeeded", version, winner.name, w.name)
		case w.err == nil:
			winner = w
		case !errors.Is(w.err, provider.ErrConflict):
			t.Fatalf("version %d: %s failed without a conflict: %v", version, w.name, w.err)
		}
	}
	if winner == nil {
		t.Fatalf("version %d: no writer succeeded", version)
	}
	for _, w := range writers {
		if w != winner {
			checkLoser(t, w, winner, version)
		}
	}
	if winner.prepare {
		if err := winner.c.Commit(ctx, winner.txid, winner.c.CommitProofs(winner.txid, winner.entries)); err != nil {
			t.Fatalf("version %d: commit of the winning prepare: %v", version, err)
		}
	}
	for _, w := range writers {
		got, err := w.c.Get(ctx, "")
		if err != nil {
			t.Fatalf("version %d: Get through %s: %v", version, w.name, err)
		}
		checkState(t, w.name, got, winner, version)
	}
}

// checkLoser requires w's refusal to name "k" alone, showing the winner's write.
func checkLoser(t *testing.T, w, winner *writer, version int64) {
	t.Helper()
	var ce *provider.ConflictError
	if !errors.As(w.err, &ce) || len(ce.Conflicts) != 1 || ce.Conflicts[0].Key != "k" {
		t.Fatalf("version %d: loser %s: %v; want one conflict, on k", version, w.name, w.err)
	}
	c := ce.Conflicts[0]
	if winner.prepare {
		if !bytes.Equal(c.ReservedBy, winner.txid) || c.Version != version-1 {
			t.Fatalf("version %d: loser %s sees k at %d reserved by %x; want %d reserved by the winner's %x",
				version, w.name, c.Version, c.ReservedBy, version-1, winner.txid)
		}
		return
	}
	if c.Version != version || !bytes.Equal(c.Value, winner.value(version)) {
		t.Fatalf("version %d: loser %s sees k at %d = %q; want the winner's %q", version, w.name, c.Version, c.Value, winner.value(version))
	}
}

// checkState requires a front-end's view to hold the winner's k and own keys of
// winners only.
func checkState(t *testing.T, via string, got []provider.Entry, winner *writer, version int64) {
	t.Helper()
	if len(got) == 0 || got[0].Key != "k" || got[0].Version != version || !bytes.Equal(got[0].Value, winner.value(version)) {
		t.Fatalf("version %d: %s reads %v; want k at %d = %q first", version, via, got, version, winner.value(version))
	}
	if len(got) != int(version)+2 {
		t.Fatalf("version %d: %s reads %d keys, want k and %d winners' own keys", version, via, len(got), version+1)
	}
	found := false
	for _, e := range got[1:] {
		found = found || e.Key == winner.ownKey(version)
	}
	if !found {
		t.Fatalf("version %d: %s does not read the winner's other key %s", version, via, winner.ownKey(version))
	}
}

// startFronts starts the daemons and returns their addresses and shared server_id.
func startFronts(t *testing.T, configure func(*lssd.Options)) ([]string, []byte) {
	t.Helper()
	dir := t.TempDir() // holds the server key all front-ends share
	var addrs []string
	var serverID []byte
	for f := range Fronts {
		opts := lssd.DefaultOptions()
		opts.Port = 0
		opts.DataDir = dir
		configure(&opts)
		d, err := lssd.Start(testCtx(t), opts)
		if err != nil {
			t.Fatalf("start front-end %d: %v", f, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := d.Stop(ctx); err != nil {
				t.Errorf("stop front-end %d: %v", f, err)
			}
		})
		if serverID != nil && !bytes.Equal(d.ServerID(), serverID) {
			t.Fatalf("front-ends have different server_ids %x and %x", serverID, d.ServerID())
		}
		serverID = d.ServerID()
		addrs = append(addrs, d.Addr())
	}
	return addrs, serverID
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
