package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints results as an aligned table, latencies in milliseconds. With
// compare, it adds the ratios against the one-provider run (see Compare).
func WriteTable(w io.Writer, results []Result, compare bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	showDB := len(databases(results)) > 1
	header := "workload\tmode\twriters\ttx\titems\terrors\tseconds\ttx/s\titems/s\tp50 ms\tp90 ms\tp99 ms\tget p50\tget p99\t"
	if compare {
		header += "items/s ×one\tp50 ×one\t"
	}
	if showDB {
		header = "database\t" + header
	}
	fmt.Fprintln(tw, header)
	for _, r := range results {
		if showDB {
			fmt.Fprintf(tw, "%s\t", r.Database)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.2f\t%.1f\t%.0f\t%.2f\t%.2f\t%.2f\t%s\t%s\t",
			r.Workload, modeLabel(r), r.Writers, r.Transactions, r.Items, r.Errors, r.Seconds,
			r.TxPerSec, r.ItemsPerSec, ms(r.Put.P50), ms(r.Put.P90), ms(r.Put.P99),
			optMS(r.Get), optMS99(r.Get))
		if compare {
			if r.Versus != nil {
				fmt.Fprintf(tw, "%.2f\t%.2f\t", r.Versus.ItemsPerSec, r.Versus.PutP50)
			} else {
				fmt.Fprint(tw, "-\t-\t")
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// WriteVerdicts prints one line per target: what is wanted, what was measured,
// and whether it is met.
func WriteVerdicts(w io.Writer, vs []Verdict) error {
	for _, v := range vs {
		status := "met"
		if !v.Met {
			status = "MISSED"
		}
		if _, err := fmt.Fprintf(w, "target %-40s got %.2f×  %s\n", v.Target, v.Got, status); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON prints one JSON object per result, one per line.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// modeLabel marks a run that MaxDuration cut short.
func modeLabel(r Result) string {
	if r.Truncated {
		return r.Mode.String() + "*"
	}
	return r.Mode.String()
}

func optMS(l Latency) string {
	if l.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", ms(l.P50))
}

func optMS99(l Latency) string {
	if l.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", ms(l.P99))
}
