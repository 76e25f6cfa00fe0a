package quorumcli

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"slices"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
)

// JSON output of get and put (--json), for scripts: one object on stdout, written
// even when the command fails (the error still goes to stderr and sets the exit
// status).

// entryJSON is one key-value; the value is hex, as on the command line.
type entryJSON struct {
	Key     string `json:"key"`
	Version int64  `json:"version"`
	Value   string `json:"value"`
}

// getJSON is what `get --json` prints.
type getJSON struct {
	Prefix     string                 `json:"prefix"`
	ReadQuorum int                    `json:"read_quorum"`
	Providers  []quorum.ProviderState `json:"providers"`
	// Entries is empty when the read failed (no quorum, rollback): no data is
	// returned then.
	Entries []entryJSON `json:"entries"`
	// Pending are newer values held without a commit proof (atomic mode), not
	// returned.
	Pending []pendingJSON `json:"pending,omitempty"`
	Error   string        `json:"error,omitempty"`
}

// pendingJSON is one quorum.PendingEntry, its txid in hex.
type pendingJSON struct {
	Key       string   `json:"key"`
	Version   int64    `json:"version"`
	TxID      string   `json:"txid"`
	Providers []string `json:"providers"`
}

// WriteGetJSON prints a get's result as JSON.
func WriteGetJSON(w io.Writer, prefix string, r int, res *quorum.GetResult, err error) error {
	out := getJSON{Prefix: prefix, ReadQuorum: r, Entries: []entryJSON{}}
	if res != nil {
		out.Providers = res.Providers
		for _, p := range res.Pending {
			out.Pending = append(out.Pending, pendingJSON{Key: p.Key, Version: p.Version, TxID: hex.EncodeToString(p.TxID), Providers: p.Providers})
		}
		if err == nil {
			out.Entries = entriesJSON(res.Entries)
		}
	}
	if err != nil {
		out.Error = err.Error()
	}
	return writeJSON(w, out)
}

func entriesJSON(es []provider.Entry) []entryJSON {
	out := make([]entryJSON, len(es))
	for i, e := range es {
		out[i] = entryJSON{Key: e.Key, Version: e.Version, Value: hex.EncodeToString(e.Value)}
	}
	return out
}

// putJSON is what `put --json` prints.
type putJSON struct {
	Stored       []entryJSON       `json:"stored"`
	Mode         string            `json:"mode,omitempty"`
	WriteQuorum  int               `json:"write_quorum"`
	Acknowledged []string          `json:"acknowledged"`
	Pending      []string          `json:"pending,omitempty"`
	Failed       map[string]string `json:"failed,omitempty"`
	TxID         string            `json:"txid,omitempty"`
	// Outcome is "stored", "failed" or "indeterminate" (an atomic put that may
	// yet commit or abort: run `lss-quorum recover`).
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
}

// WritePutJSON prints a put's result as JSON.
func WritePutJSON(w io.Writer, kvs []provider.KV, quorumW int, res *quorum.PutResult, err error) error {
	out := putJSON{WriteQuorum: quorumW, Acknowledged: []string{}, Outcome: putOutcome(err)}
	out.Stored = make([]entryJSON, len(kvs))
	for i, kv := range kvs {
		out.Stored[i] = entryJSON{Key: kv.Key, Version: kv.Version, Value: hex.EncodeToString(kv.Value)}
	}
	if res != nil {
		out.Mode = res.Mode.String()
		out.Acknowledged = append(out.Acknowledged, res.Acked...)
		out.Pending = res.Pending
		if len(res.TxID) > 0 {
			out.TxID = hex.EncodeToString(res.TxID)
		}
		if len(res.Failed) > 0 {
			out.Failed = make(map[string]string, len(res.Failed))
			for _, name := range slices.Sorted(maps.Keys(res.Failed)) {
				out.Failed[name] = res.Failed[name].Error()
			}
		}
	}
	if err != nil {
		out.Error = err.Error()
	}
	return writeJSON(w, out)
}

func putOutcome(err error) string {
	switch ExitCode(err) {
	case ExitOK:
		return "stored"
	case ExitIndeterminate:
		return "indeterminate"
	}
	return "failed"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
