package quorumcli

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

func newPutCommand(g *globals) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "put KEY VERSION HEXVALUE [KEY VERSION HEXVALUE ...]",
		Short: "Write key-values through the quorum, all in one put",
		Long: `put writes one or more key-values through the quorum in a single put. Each
VERSION must be the key's next version: 0 for a new key, otherwise the stored
version plus one (see "get"). HEXVALUE is the value in hex ("" for empty).

The put succeeds once W providers acknowledged it; the output names the providers
that acknowledged, failed or were still writing. With --json, one JSON object
(stored key-values, providers, outcome) instead.

Exit status 5: an atomic put whose outcome is indeterminate (too few providers
answered to know whether it committed); it may yet commit or abort, never half.
Run "lss-quorum recover" to settle it.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || len(args)%3 != 0 {
				return usagef("put takes KEY VERSION HEXVALUE triples, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kvs, err := ParsePutArgs(args)
			if err != nil {
				return usageError(err)
			}
			s, err := g.openSession(cmd.Context(), sessionMode{settle: true})
			if err != nil {
				return err
			}
			res, err := s.client.Put(cmd.Context(), kvs)
			err = forCommandLine(err)
			switch {
			case jsonOut:
				if jerr := WritePutJSON(g.stdout, kvs, s.client.W(), res, err); err == nil {
					err = jerr
				}
			case res != nil:
				WritePutResult(g.stdout, len(kvs), s.client.W(), res)
			}
			if errors.Is(err, provider.ErrConflict) {
				err = fmt.Errorf("%w\nhint: a key's next version is its stored version + 1 (0 for a new key); see `lss-quorum get`", err)
			}
			return s.finish(err)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the result as one JSON object")
	return cmd
}

// MaxVersion is the highest version a put can write: the protocol's versions
// are int64, and the version after a key's last must exist (lssd refuses
// math.MaxInt64 for that reason), so it is refused here, before anything is
// sent, rather than by every provider.
const MaxVersion = math.MaxInt64 - 1

// checkKeyText refuses a key or prefix that is not valid UTF-8: the protocol
// carries keys as protobuf strings, which cannot hold it, so every provider
// would fail the call with an internal marshaling error instead of naming it.
func checkKeyText(what, key string) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("%s %q is not valid UTF-8 (keys are text)", what, key)
	}
	return nil
}

// ParsePutArgs turns KEY VERSION HEXVALUE triples into key-values sorted by key
// (the order the protocol requires), refusing a bad version, bad hex or a key
// given twice, each error naming the argument.
func ParsePutArgs(args []string) ([]provider.KV, error) {
	if len(args) == 0 || len(args)%3 != 0 {
		return nil, fmt.Errorf("want KEY VERSION HEXVALUE triples, got %d argument(s)", len(args))
	}
	kvs := make([]provider.KV, 0, len(args)/3)
	seen := make(map[string]int)
	for i := 0; i < len(args); i += 3 {
		n := i/3 + 1
		key, verStr, valStr := args[i], args[i+1], args[i+2]
		if key == "" {
			return nil, fmt.Errorf("key-value %d: empty key", n)
		}
		if err := checkKeyText("key-value "+strconv.Itoa(n)+": key", key); err != nil {
			return nil, err
		}
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("key-value %d: key %q was already given as key-value %d", n, key, first)
		}
		seen[key] = n
		ver, err := strconv.ParseInt(verStr, 10, 64)
		if err != nil || ver < 0 || ver > MaxVersion {
			return nil, fmt.Errorf("key-value %d (key %q): version %q is not a non-negative integer up to %d", n, key, verStr, int64(MaxVersion))
		}
		val, err := hex.DecodeString(strings.TrimPrefix(valStr, "0x"))
		if err != nil {
			return nil, fmt.Errorf("key-value %d (key %q): value %q is not hex: %v", n, key, valStr, err)
		}
		kvs = append(kvs, provider.KV{Key: key, Version: ver, Value: val})
	}
	slices.SortFunc(kvs, func(a, b provider.KV) int { return cmp.Compare(a.Key, b.Key) })
	return kvs, nil
}

// WritePutResult prints what a put did on each provider.
func WritePutResult(w io.Writer, keys, quorumW int, res *quorum.PutResult) {
	fmt.Fprintf(w, "put %d key(s), %s mode: acknowledged by %d provider(s), need %d\n", keys, res.Mode, len(res.Acked), quorumW)
	if len(res.Acked) > 0 {
		fmt.Fprintf(w, "  acknowledged: %s\n", strings.Join(res.Acked, ", "))
	}
	if len(res.Pending) > 0 {
		fmt.Fprintf(w, "  still writing when the quorum was reached: %s\n", strings.Join(res.Pending, ", "))
	}
	names := make([]string, 0, len(res.Failed))
	for name := range res.Failed {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(w, "  failed: %s: %v\n", name, res.Failed[name])
	}
}
