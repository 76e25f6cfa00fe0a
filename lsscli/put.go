package lsscli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/lssquorum/lss/provider"
)

// errPutConflict is the error of a put refused by the version rule.
var errPutConflict = errors.New("put conflict")

func putCmd(g *globals, out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "put KEY VERSION HEXVALUE",
		Short: "Write a versioned key-value",
		Long: `Writes KEY at VERSION with the hex-encoded HEXVALUE. VERSION must be 0 for a new
key and the stored version + 1 for an existing one. On success, prints what was
stored:

  stored key: KEY, version: VERSION value: HEXVALUE

On a conflict, prints for each conflicting key

  conflict key: KEY, version: VERSION value: HEXVALUE

with the server's stored version (-1 and an empty value for an absent key),
followed by "(reserved by pending transaction TXID)" if a quorum transaction holds
the key, and exits with status 1. A stored value whose HMAC fails is an error, not printed.

Refuses (status 1, before sending anything) to send a value for KEY at VERSION when a
different value was sent for them before, even by a put that failed: the value
format's nonce depends only on the key and version, so the two values would be
encrypted with the same keystream. Sending the same value again is allowed. What
was sent is remembered (as HMACs, for the 4096 most recent key-versions) in
--datadir/sent-values.`,
		Args: cmdmain.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			version, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || version < 0 {
				return cmdmain.Usagef("VERSION %q: want a non-negative integer", args[1])
			}
			value, err := hex.DecodeString(args[2])
			if err != nil {
				return cmdmain.Usagef("HEXVALUE %q: %v", args[2], err)
			}
			ctx, cancel := g.withTimeout(cmd.Context())
			defer cancel()
			c, err := g.dialPinned(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := g.recordSent(args[0], version, value); err != nil {
				return err
			}
			err = c.Put(ctx, []provider.KV{{Key: args[0], Version: version, Value: value}})
			if err == nil {
				fmt.Fprintf(out, "stored key: %s, version: %d value: %x\n", args[0], version, value)
				return nil
			}
			var ce *provider.ConflictError
			if !errors.As(err, &ce) {
				return err
			}
			if perr := printConflicts(out, ce.Conflicts); errors.Is(perr, provider.ErrValueHMAC) {
				return perr
			}
			return conflictError(args[0], version, ce.Conflicts)
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

// conflictError leads with what the server holds, then what was sent and what
// to send instead.
func conflictError(key string, sent int64, conflicts []provider.Conflict) error {
	for _, cf := range conflicts {
		if cf.Key != key {
			continue
		}
		if len(cf.ReservedBy) > 0 {
			return fmt.Errorf("stored version %d of %q, reserved by pending transaction %x; sent version %d: %w",
				cf.Version, key, cf.ReservedBy, sent, errPutConflict)
		}
		return fmt.Errorf("stored version %d of %q, sent version %d (the next version is %d): %w",
			cf.Version, key, sent, cf.Version+1, errPutConflict)
	}
	return errPutConflict
}
