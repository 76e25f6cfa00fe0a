package lsscli

import (
	"fmt"
	"io"

	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/spf13/cobra"
)

func getCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "get PREFIX",
		Short: "Read every key-value whose key starts with PREFIX",
		Long: `Reads all keys starting with PREFIX ("" for all) and prints one line per key,
in key order, in the Rust tool's format:

  key: KEY, version: VERSION value: HEXVALUE

If the reply or any value fails its HMAC check, nothing is printed and the command
fails.`,
		Args: cmdmain.ExactArgs(1),
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
