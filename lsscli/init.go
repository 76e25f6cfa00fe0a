package lsscli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/cmdmain"
)

func initCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the client key if absent and pin the server's public key",
		Long: `Creates --datadir/client-key (mode 0600) if it does not exist, fetches the
server's public key and saves it in --datadir/server-pubkey. An existing client key
is never replaced. If a different server key is already pinned, init refuses: remove
server-pubkey to trust the new server (data stored under the old server is not
readable through the new one). Prints the client's and the server's public keys.`,
		Args: cmdmain.NoArgs,
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
