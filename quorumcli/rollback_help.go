package quorumcli

import (
	"fmt"
	"io"
	"strings"

	"github.com/lssquorum/lss/quorum"
)

// WriteWaysOut prints, after a rollback of the whole quorum, the rolled-back
// keys and the three ways out. holders are the providers that gave no valid
// reply (one of them may still hold the data).
func WriteWaysOut(w io.Writer, keys []quorum.KeyRollback, holders []string) {
	if len(keys) == 0 {
		return
	}
	fmt.Fprintln(w, "ROLLBACK: every answering provider is below what this client saw acknowledged:")
	names := make([]string, len(keys))
	for i, k := range keys {
		fmt.Fprintf(w, "  %s\n", k)
		names[i] = k.Key
	}
	fmt.Fprintln(w, "Ways out (the watermark is never lowered by itself; never delete its file):")
	if len(holders) > 0 {
		fmt.Fprintf(w, "  1. repair from a provider that may still hold the data: bring back %s, then run `lss-quorum audit --repair`\n",
			strings.Join(holders, ", "))
	} else {
		fmt.Fprintln(w, "  1. repair from a provider that still holds the data: none of the configured providers does; if one restored from a newer backup does, add it and run `lss-quorum audit --repair`")
	}
	fmt.Fprintf(w, "  2. if you still have the acknowledged values, write them back at their versions: `lss-quorum watermark reput %s`\n",
		reputArgs(keys))
	resetArgs := make([]string, len(names))
	for i, n := range names {
		resetArgs[i] = "--key " + shellQuote(n)
	}
	fmt.Fprintf(w, "  3. accept the providers' older state deliberately (the newer data is lost): `lss-quorum watermark reset %s`\n",
		strings.Join(resetArgs, " "))
}

// reputArgs is the KEY VERSION HEXVALUE triples of keys, the value left to
// the operator.
func reputArgs(keys []quorum.KeyRollback) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d HEXVALUE", shellQuote(k.Key), k.Watermark)
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '-' || r == '_' || r == '.' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
