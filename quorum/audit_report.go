package quorum

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/lssquorum/lss/provider"
)

// Verdict is the overall outcome of an audit.
type Verdict string

// The verdicts.
const (
	// Agree: every provider answered, verified, and holds exactly the merged
	// state, which is not below the watermark.
	Agree Verdict = "agree"
	// Disagree: at least one provider is behind, ahead, diverged, faulty or
	// unreachable, or the quorum as a whole rolled back.
	Disagree Verdict = "disagree"
)

// ServerIDCheck is how a provider's server_id compares with the pinned one.
type ServerIDCheck string

// The server_id checks.
const (
	// ServerIDPinned: the server presented the pinned server_id.
	ServerIDPinned ServerIDCheck = "pinned"
	// ServerIDUnpinned: no server_id is pinned for the provider; any is accepted.
	ServerIDUnpinned ServerIDCheck = "unpinned"
	// ServerIDMismatch: the server presented another server_id than the pinned one.
	ServerIDMismatch ServerIDCheck = "MISMATCH"
	// ServerIDUnknown: the server could not be asked.
	ServerIDUnknown ServerIDCheck = "unknown"
)

// AuditOptions select what Audit does besides reporting.
type AuditOptions struct {
	// Repair copies the merged state to behind providers (as Repair does) and
	// audits again, reporting both.
	Repair bool
	// Progress, if set, is told how far the audit has come.
	Progress ProgressFunc
}

// ProviderAudit is the audit of one provider.
type ProviderAudit struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	// Reachable: the provider answered (even if its answer failed verification).
	Reachable bool `json:"reachable"`
	// ServerID is the server_id the server presented, hex; empty if unknown.
	ServerID string `json:"server_id,omitempty"`
	// ServerIDCheck compares it with the pinned server_id.
	ServerIDCheck ServerIDCheck `json:"server_id_check"`
	// Verified: the reply passed every check (server HMAC, value HMACs, keys).
	Verified bool `json:"verified"`
	// Keys is how many keys it returned (verified replies only).
	Keys   int    `json:"keys"`
	Status Status `json:"status"`
	// Behind, Missing, Ahead, Diverged and Tampered are as in ProviderState.
	Behind   []KeyComparison `json:"behind,omitempty"`
	Missing  []KeyComparison `json:"missing,omitempty"`
	Ahead    []KeyComparison `json:"ahead,omitempty"`
	Diverged []KeyComparison `json:"diverged,omitempty"`
	Tampered []KeyComparison `json:"tampered,omitempty"`
	// Unproven are keys it holds newer than the merge without a commit proof.
	Unproven []KeyComparison `json:"unproven,omitempty"`
	// RolledBack are keys it holds below versions it confirmed before.
	RolledBack []KeyLoss `json:"rolled_back,omitempty"`
	// BelowWatermark are other keys it holds below the acknowledged version
	// while every answering provider does.
	BelowWatermark []KeyLoss `json:"below_watermark,omitempty"`
	// Error is why the provider is faulty or unreachable.
	Error string `json:"error,omitempty"`
}

// AuditReport says, for one prefix, whether the providers agree and what is
// wrong with which provider.
type AuditReport struct {
	Prefix  string  `json:"prefix"`
	Verdict Verdict `json:"verdict"`
	N       int     `json:"n"`
	W       int     `json:"w"`
	R       int     `json:"r"`
	// Keys is the number of keys in the merged state.
	Keys int `json:"keys"`
	// Valid is how many providers gave a verified reply.
	Valid     int             `json:"valid"`
	Providers []ProviderAudit `json:"providers"`
	// RolledBack are keys whose merged version is below the client's watermark:
	// every answering provider lost acknowledged writes.
	RolledBack []KeyRollback `json:"rolled_back,omitempty"`
	// Ties are keys whose newest version the providers hold with different
	// values, none known to be the acknowledged one.
	Ties []Tie `json:"ties,omitempty"`
	// Pending are values newer than the merged ones, held without a commit
	// proof (atomic mode): never read; Recover settles their transactions.
	Pending []PendingEntry `json:"pending,omitempty"`
	// Problems say in plain words what is wrong, one sentence each; empty when
	// the verdict is Agree.
	Problems []string `json:"problems,omitempty"`
	// Transactions are the atomic puts still prepared on some provider, each with
	// what every provider holds and the decision the rule draws from it.
	Transactions []TxStatus `json:"transactions,omitempty"`
	// Split are transactions committed on some provider yet aborted on enough of
	// their recorded participants to have been decided aborted: only a provider
	// that rolled back its transaction records (forgetting a fence) can cause it.
	Split []TxStatus `json:"split,omitempty"`
	// Repair is what AuditOptions.Repair did, and After the audit that followed.
	Repair *RepairReport `json:"repair,omitempty"`
	After  *AuditReport  `json:"after,omitempty"`
}

// idCheck is what is known about one provider's server_id.
type idCheck struct {
	pinned    []byte
	presented []byte // nil if unknown
}

// assess builds the audit report from a merge over every provider: the verdict
// and a plain sentence for every problem. It does no I/O.
func assess(prefix string, addrs []string, ids []idCheck, merged []provider.Entry, states []ProviderState,
	rolled []KeyRollback, n, w, r int) *AuditReport {
	rep := &AuditReport{Prefix: prefix, N: n, W: w, R: r, Keys: len(merged), RolledBack: rolled}
	for i, s := range states {
		pa := ProviderAudit{
			Name: s.Name, Addr: addrs[i], Status: s.Status,
			Reachable: s.Status != Unreachable,
			Verified:  s.Err == nil,
			Behind:    s.Behind, Missing: s.Missing, Ahead: s.Ahead, Diverged: s.Diverged, Tampered: s.Tampered,
			Unproven:   s.Unproven,
			RolledBack: s.RolledBack, BelowWatermark: s.BelowWatermark,
		}
		if s.Err == nil {
			pa.Keys = s.Keys
			rep.Valid++
		} else {
			pa.Error = s.Err.Error()
		}
		id := ids[i]
		if id.presented != nil {
			pa.ServerID = hex.EncodeToString(id.presented)
		}
		switch {
		case id.presented == nil:
			pa.ServerIDCheck = ServerIDUnknown
		case id.pinned == nil:
			pa.ServerIDCheck = ServerIDUnpinned
		case bytes.Equal(id.pinned, id.presented):
			pa.ServerIDCheck = ServerIDPinned
		default:
			pa.ServerIDCheck = ServerIDMismatch
		}
		rep.Providers = append(rep.Providers, pa)
		rep.Problems = append(rep.Problems, problemsOf(pa, s.Err, id)...)
	}
	if rep.Valid < r {
		rep.Problems = append(rep.Problems, fmt.Sprintf(
			"only %d of %d providers gave a verified reply; a read needs %d, so the quorum cannot answer", rep.Valid, n, r))
	}
	if len(rolled) > 0 {
		parts := make([]string, len(rolled))
		for i, k := range rolled {
			parts[i] = k.String()
		}
		rep.Problems = append(rep.Problems, fmt.Sprintf(
			"ROLLBACK of the whole quorum: every answering provider is below the versions this client saw acknowledged: %s",
			strings.Join(parts, "; ")))
	}
	rep.Verdict = Agree
	if len(rep.Problems) > 0 {
		rep.Verdict = Disagree
	}
	return rep
}

// problemsOf says what is wrong with one provider, in plain words.
func problemsOf(pa ProviderAudit, err error, id idCheck) []string {
	var out []string
	switch pa.Status {
	case Unreachable:
		return []string{fmt.Sprintf("%s is unreachable: %v", pa.Name, err)}
	case Faulty:
		switch {
		case pa.ServerIDCheck == ServerIDMismatch || errors.Is(err, provider.ErrServerIDMismatch):
			what := "another server_id"
			if id.presented != nil {
				what = fmt.Sprintf("server_id %x", id.presented)
			}
			out = append(out, fmt.Sprintf("%s is FAULTY: it presents %s, not the pinned %x (another server answers at %s); its data is ignored",
				pa.Name, what, id.pinned, pa.Addr))
		case len(pa.Tampered) > 0:
			out = append(out, fmt.Sprintf("%s is FAULTY: stored values fail their value HMAC (tampered or forged): %s; all of its data is ignored",
				pa.Name, keyList(pa.Tampered, func(kv KeyComparison) string { return fmt.Sprintf("%q v%d", kv.Key, kv.Version) })))
		default:
			out = append(out, fmt.Sprintf("%s is FAULTY: %v; all of its data is ignored", pa.Name, err))
		}
		return out
	}
	if len(pa.RolledBack) > 0 {
		parts := make([]string, 0, len(pa.RolledBack))
		for _, k := range pa.RolledBack {
			parts = append(parts, fmt.Sprintf("%q confirmed at v%d, now %s", k.Key, k.Confirmed, versionWord(k.Held)))
		}
		out = append(out, fmt.Sprintf("%s ROLLED BACK: it lost versions it had confirmed to this client (restored from old data or lost writes): %s",
			pa.Name, strings.Join(parts, "; ")))
	}
	if len(pa.BelowWatermark) > 0 {
		parts := make([]string, 0, len(pa.BelowWatermark))
		for _, k := range pa.BelowWatermark {
			parts = append(parts, fmt.Sprintf("%q acknowledged at v%d, holds %s", k.Key, k.Confirmed, versionWord(k.Held)))
		}
		out = append(out, fmt.Sprintf("%s is BELOW THE WATERMARK (lost the writes, or never had them; no record of what it confirmed): %s",
			pa.Name, strings.Join(parts, "; ")))
	}
	if n := len(pa.Behind) + len(pa.Missing); n > 0 {
		out = append(out, fmt.Sprintf("%s is BEHIND on %d key(s) (lagging or rolled back): %s; repair copies the newer versions to it",
			pa.Name, n, keyList(append(append([]KeyComparison{}, pa.Behind...), pa.Missing...), KeyComparison.String)))
	}
	if len(pa.Diverged) > 0 {
		out = append(out, fmt.Sprintf("%s holds a different value at the merged version of %s; forward-only repair cannot change it",
			pa.Name, keyList(pa.Diverged, func(kv KeyComparison) string { return fmt.Sprintf("%q v%d", kv.Key, kv.Version) })))
	}
	if len(pa.Ahead) > 0 {
		out = append(out, fmt.Sprintf("%s alone holds the newest version of %s; it wins the merge (its value HMAC verifies) and repair copies it to the others",
			pa.Name, keyList(pa.Ahead, KeyComparison.String)))
	}
	return out
}

// keyList renders up to a handful of keys, then a count of the rest.
func keyList(kvs []KeyComparison, show func(KeyComparison) string) string {
	const most = 5
	parts := make([]string, 0, most+1)
	for i, kv := range kvs {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(kvs)-most))
			break
		}
		parts = append(parts, show(kv))
	}
	return strings.Join(parts, "; ")
}

// Table renders the report for people: one row per provider, then every problem
// in plain words, then the repair and the audit after it if there was one.
func (r *AuditReport) Table() string {
	var b strings.Builder
	r.writeTable(&b)
	if r.Repair != nil {
		b.WriteString("\nRepair:\n")
		for _, p := range r.Repair.Providers {
			fmt.Fprintf(&b, "  %s: %s\n", p.Name, p.summary())
		}
	}
	if r.After != nil {
		b.WriteString("\nAfter repair:\n")
		r.After.writeTable(&b)
	}
	return b.String()
}

func (r *AuditReport) writeTable(b *strings.Builder) {
	fmt.Fprintf(b, "Audit of prefix %q: %d providers (W=%d, R=%d), %d keys merged, verdict: %s\n",
		r.Prefix, r.N, r.W, r.R, r.Keys, strings.ToUpper(string(r.Verdict)))
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tADDRESS\tREACHABLE\tSERVER_ID\tVERIFIED\tKEYS\tSTATUS")
	for _, p := range r.Providers {
		keys := "-"
		if p.Verified {
			keys = fmt.Sprint(p.Keys)
		}
		id := string(p.ServerIDCheck)
		if p.ServerID != "" {
			id += " " + p.ServerID[:min(len(p.ServerID), 12)] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Addr, yesNo(p.Reachable), id, yesNo(p.Verified), keys, p.Status)
	}
	tw.Flush()
	if len(r.Problems) == 0 {
		b.WriteString("All providers agree.\n")
		return
	}
	b.WriteString("Problems:\n")
	for _, p := range r.Problems {
		fmt.Fprintf(b, "  - %s\n", p)
	}
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "NO"
}

// summary says in one line what repair did to a provider.
func (p ProviderRepair) summary() string {
	var parts []string
	if len(p.Restored) > 0 {
		ks := make([]string, 0, len(p.Restored))
		for i, u := range p.Restored {
			if i == 5 {
				ks = append(ks, fmt.Sprintf("and %d more", len(p.Restored)-5))
				break
			}
			ks = append(ks, fmt.Sprintf("%q %s→v%d", u.Key, versionWord(u.From), u.To))
		}
		parts = append(parts, fmt.Sprintf("restored %d key(s): %s", len(p.Restored), strings.Join(ks, ", ")))
	}
	if len(p.Kept) > 0 {
		parts = append(parts, fmt.Sprintf("%d key(s) already newer there, kept", len(p.Kept)))
	}
	if len(p.Unrepairable) > 0 {
		parts = append(parts, fmt.Sprintf("%d key(s) cannot be repaired with the base protocol (the provider lacks Restore and is more than one version behind)",
			len(p.Unrepairable)))
	}
	if p.Err != nil {
		parts = append(parts, p.Err.Error())
	} else if p.Error != "" {
		parts = append(parts, p.Error)
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, "; ")
}
