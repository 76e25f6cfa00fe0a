package lsscli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/cmdmain"
)

func infoCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Show the client's and the pinned server's public keys",
		Long: `Prints "public key: HEX" (or "not initialized") and "server public key: HEX"
(or "server public key not initialized"), as the Rust tool does, from --datadir
alone. A corrupt key file is an error.`,
		Args: cmdmain.NoArgs,
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
