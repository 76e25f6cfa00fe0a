package lsscli

import (
	"fmt"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/spf13/cobra"
)

func pingCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "ping",
		Short: "Check that the server answers (needs no init)",
		Long:  "Sends \"hello\" and prints the server's answer as \"ping result: MESSAGE\".",
		Args:  cmdmain.NoArgs,
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
