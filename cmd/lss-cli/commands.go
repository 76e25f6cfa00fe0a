package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/provider"
)

// dial connects to --rpc as key; pinned nil accepts the server's key (init only).
func (g *globals) dial(ctx context.Context, key *secp256k1.PrivateKey, pinned []byte) (*provider.Client, error) {
	addr, err := parseRPC(g.rpc)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := g.tlsConfig(addr)
	if err != nil {
		return nil, err
	}
	return provider.Dial(ctx, provider.Options{
		Addr:      addr,
		ServerID:  pinned,
		TLS:       tlsCfg,
		ClientKey: key,
		// The Rust client's default value format: value HMAC, then ChaCha20,
		// with HMAC secret SHA256(client key) (the provider's default secret).
		Encrypt: true,
	})
}

// dialPinned loads the client key and the pinned server key and connects.
func (g *globals) dialPinned(ctx context.Context) (*provider.Client, error) {
	key, err := clientkey.Load(g.clientKeyPath())
	if err != nil {
		return nil, err
	}
	pinned, err := clientkey.LoadServerKey(g.serverKeyPath())
	if err != nil {
		return nil, err
	}
	return g.dial(ctx, key, pinned)
}

func pingCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "ping",
		Short: "Check that the server answers (needs no init)",
		Long:  "Sends \"hello\" and prints the server's answer as \"ping result: MESSAGE\".",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := g.withTimeout(cmd.Context())
			defer cancel()
			// Ping needs no identity; a throwaway key lets Dial run unchanged.
			key, err := secp256k1.GeneratePrivateKey()
			if err != nil {
				return err
			}
			c, err := g.dial(ctx, key, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			msg, err := c.Ping(ctx, "hello")
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "ping result: %s\n", msg)
			return nil
		},
	}
}

func initCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the client key if absent and pin the server's public key",
		Long: `Creates --datadir/client-key (mode 0600) if it does not exist, fetches the
server's public key and saves it in --datadir/server-pubkey. An existing client key
is never replaced. If a different server key is already pinned, init refuses: remove
server-pubkey to trust the new server (data stored under the old server is not
readable through the new one). Prints the client's and the server's public keys.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := g.withTimeout(cmd.Context())
			defer cancel()
			key, created, err := clientkey.LoadOrCreate(g.clientKeyPath())
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintf(out, "created client key %s\n", g.clientKeyPath())
			}
			c, err := g.dial(ctx, key, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			pinned, err := clientkey.PinServerKey(g.serverKeyPath(), c.ServerID())
			if err != nil {
				return err
			}
			if pinned {
				fmt.Fprintf(out, "pinned server public key in %s\n", g.serverKeyPath())
			}
			fmt.Fprintf(out, "public key: %x\n", c.ClientID())
			fmt.Fprintf(out, "server public key: %x\n", c.ServerID())
			return nil
		},
	}
}

func infoCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Show the client's and the pinned server's public keys",
		Long: `Prints "public key: HEX" (or "not initialized") and "server public key: HEX"
(or "server public key not initialized"), as the Rust tool does, from --datadir
alone. A corrupt key file is an error.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			key, err := clientkey.Load(g.clientKeyPath())
			switch {
			case errors.Is(err, clientkey.ErrNotInitialized):
				fmt.Fprintln(out, "not initialized")
			case err != nil:
				return err
			default:
				fmt.Fprintf(out, "public key: %x\n", key.PubKey().SerializeCompressed())
			}
			id, err := clientkey.LoadServerKey(g.serverKeyPath())
			switch {
			case errors.Is(err, clientkey.ErrNotInitialized):
				fmt.Fprintln(out, "server public key not initialized")
			case err != nil:
				return err
			default:
				fmt.Fprintf(out, "server public key: %x\n", id)
			}
			return nil
		},
	}
}

// errPutConflict is the error of a put refused by the version rule.
var errPutConflict = errors.New("put conflict")

func putCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "put KEY VERSION HEXVALUE",
		Short: "Write a versioned key-value",
		Long: `Writes KEY at VERSION with the hex-encoded HEXVALUE. VERSION must be 0 for a new
key and the stored version + 1 for an existing one. Prints nothing on success. On a
conflict, prints for each conflicting key

  conflict key: KEY, version: VERSION value: HEXVALUE

with the server's stored version (-1 and an empty value for an absent key),
followed by "(reserved by pending transaction TXID)" if a quorum transaction holds
the key, and exits with status 1. A stored value whose HMAC fails is an error, not printed.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			version, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || version < 0 {
				return fmt.Errorf("VERSION %q: want a non-negative integer", args[1])
			}
			value, err := hex.DecodeString(args[2])
			if err != nil {
				return fmt.Errorf("HEXVALUE %q: %v", args[2], err)
			}
			ctx, cancel := g.withTimeout(cmd.Context())
			defer cancel()
			c, err := g.dialPinned(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			err = c.Put(ctx, []provider.KV{{Key: args[0], Version: version, Value: value}})
			var ce *provider.ConflictError
			if !errors.As(err, &ce) {
				return err
			}
			return printConflicts(out, ce.Conflicts)
		},
	}
}

// printConflicts prints each conflict, refusing to print a stored value whose
// HMAC failed.
func printConflicts(out io.Writer, conflicts []provider.Conflict) error {
	for _, cf := range conflicts {
		if cf.Version >= 0 && cf.Value == nil {
			return fmt.Errorf("%w on key %q (stored version %d): %w",
				errPutConflict, cf.Key, cf.Version, provider.ErrValueHMAC)
		}
	}
	for _, cf := range conflicts {
		fmt.Fprintf(out, "conflict key: %s, version: %d value: %x", cf.Key, cf.Version, cf.Value)
		if len(cf.ReservedBy) > 0 {
			fmt.Fprintf(out, " (reserved by pending transaction %x)", cf.ReservedBy)
		}
		fmt.Fprintln(out)
	}
	return errPutConflict
}

func getCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "get PREFIX",
		Short: "Read every key-value whose key starts with PREFIX",
		Long: `Reads all keys starting with PREFIX ("" for all) and prints one line per key,
in key order, in the Rust tool's format:

  key: KEY, version: VERSION value: HEXVALUE

If the reply or any value fails its HMAC check, nothing is printed and the command
fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := g.withTimeout(cmd.Context())
			defer cancel()
			c, err := g.dialPinned(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			entries, err := c.Get(ctx, args[0])
			if err != nil {
				return err
			}
			for _, e := range entries {
				fmt.Fprintf(out, "key: %s, version: %d value: %x\n", e.Key, e.Version, e.Value)
			}
			return nil
		},
	}
}
