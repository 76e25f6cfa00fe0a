package quorum_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/testnet"
)

// exampleClient starts three in-process providers in a temporary directory
// and opens a client of them with every server_id pinned (as `lss-quorum init`
// pins them; Example shows the whole opening, with a watermark store). done
// closes the client and stops the providers.
func exampleClient(ctx context.Context) (c *quorum.Client, done func()) {
	dir, err := os.MkdirTemp("", "quorum-example")
	if err != nil {
		log.Fatal(err)
	}
	net, err := testnet.Start(ctx, testnet.Config{N: 3, Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	var providers []quorum.ProviderConfig
	for _, p := range net.Providers() {
		providers = append(providers, quorum.ProviderConfig{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID()})
	}
	key, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		log.Fatal(err)
	}
	c, err = quorum.New(ctx, quorum.Config{Providers: providers, ClientKey: key, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	return c, func() {
		c.Close()
		net.Close()
		os.RemoveAll(dir)
	}
}

// A put at or below a version already acknowledged is refused before anything
// is sent: the watermark's rollback protection on the write side.
func ExampleClient_Put_belowTheWatermark() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := exampleClient(ctx)
	defer done()

	put := func(kvs ...provider.KV) {
		res, err := c.Put(ctx, kvs)
		switch {
		case err == nil:
			fmt.Printf("stored (%s mode, %d acknowledgements needed)\n", res.Mode, c.W())
		case errors.Is(err, quorum.ErrIndeterminate):
			// An atomic put that may or may not be committed: do not sign
			// anything that depends on it, and do not write these keys again
			// until Recover (or the client's own settling) decided it.
			if _, rerr := c.Recover(ctx); rerr != nil {
				log.Fatal(rerr)
			}
			fmt.Println("outcome settled by Recover; read the keys again")
		case errors.Is(err, quorum.ErrRollback):
			// Refused before sending: the version is at or below one already
			// acknowledged. Nothing was written.
			fmt.Println("refused:", err != nil)
		case errors.Is(err, quorum.ErrTxAborted):
			fmt.Println("aborted: nothing was written anywhere; retry")
		default:
			fmt.Println("failed:", err)
		}
	}
	put(provider.KV{Key: "state", Version: 0, Value: []byte("a")})
	put(provider.KV{Key: "state", Version: 0, Value: []byte("b")}) // the acknowledged version again
	// Output:
	// stored (atomic mode, 2 acknowledgements needed)
	// refused: true
}

// What a signer does with each outcome of a Get: only a nil error gives
// entries it may sign from.
func ExampleClient_Get() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := exampleClient(ctx)
	defer done()
	if _, err := c.Put(ctx, []provider.KV{{Key: "state", Version: 0, Value: []byte("a")}}); err != nil {
		log.Fatal(err)
	}

	res, err := c.Get(ctx, "")
	var rollback *quorum.RollbackError
	switch {
	case err == nil:
		for _, e := range res.Entries {
			fmt.Printf("%s v%d = %s\n", e.Key, e.Version, e.Value)
		}
	case errors.As(err, &rollback):
		// Every answering provider lost acknowledged writes: stop signing.
		// Repair from a provider that still holds them, Reput the values, or
		// reset the watermark deliberately.
		fmt.Println("rolled back:", rollback.Keys)
	case errors.Is(err, quorum.ErrNoQuorum), errors.Is(err, quorum.ErrUnconfirmed), errors.Is(err, quorum.ErrTie):
		// Not enough agreement right now: try again later.
		fmt.Println("no answer yet:", err)
	default:
		fmt.Println("failed:", err)
	}
	// Output:
	// state v0 = a
}
