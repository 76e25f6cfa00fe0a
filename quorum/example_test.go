package quorum_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// A signer's life: open the client (with a watermark kept in a file, and a
// recovery of what an earlier process left), persist state before signing,
// read it back, and handle each outcome of a put.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, _ := os.MkdirTemp("", "signer")
	defer os.RemoveAll(dir)
	// Three local providers stand in for three operators.
	net, err := testnet.Start(ctx, testnet.Config{N: 3, Dir: filepath.Join(dir, "net"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer net.Close()

	key, _ := secp256k1.GeneratePrivateKey()
	var providers []quorum.ProviderConfig
	for _, p := range net.Providers() {
		// Pinned, as lss-quorum init pins them: the server_id and the
		// capability (these servers speak the extension).
		providers = append(providers, quorum.ProviderConfig{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID()})
	}
	c, report, err := quorum.Open(ctx, quorum.Config{
		Providers:  providers,
		ClientKey:  key,
		Mode:       quorum.ModeAtomic,
		Watermarks: quorum.OpenWatermarkFile(filepath.Join(dir, "watermark.json"), wire.PublicID(key)),
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println("open:", err)
		return
	}
	defer c.Close()
	fmt.Println("left by an earlier process:", len(report.Transactions))

	// Before signing, persist the new channel state, all or nothing.
	state := []provider.KV{
		{Key: "chan/1/commitment", Version: 0, Value: []byte("c0")},
		{Key: "chan/1/revocation", Version: 0, Value: []byte("r0")},
	}
	res, err := c.Put(ctx, state)
	switch {
	case err == nil:
		fmt.Println("put:", res.Mode, "acknowledged by at least", c.W())
	case errors.Is(err, quorum.ErrTxAborted):
		// Nothing was written anywhere: do not sign; read and try again.
		fmt.Println("aborted:", err)
		return
	case errors.Is(err, quorum.ErrIndeterminate):
		// Maybe committed, never half: do not sign. The client settles the
		// transaction by itself; read the state again before going on.
		fmt.Println("indeterminate:", err)
		return
	default:
		fmt.Println("put:", err)
		return
	}

	got, err := c.Get(ctx, "chan/1/")
	if err != nil {
		fmt.Println("get:", err) // a *RollbackError means: never sign from this
		return
	}
	for _, e := range got.Entries {
		fmt.Printf("%s v%d %s\n", e.Key, e.Version, e.Value)
	}
	// Output:
	// left by an earlier process: 0
	// put: atomic acknowledged by at least 2
	// chan/1/commitment v0 c0
	// chan/1/revocation v0 r0
}
