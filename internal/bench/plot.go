package bench

import (
	"fmt"
	"html"
	"io"
	"strings"
	"time"
)

// Plot geometry, in SVG user units.
const (
	plotRow    = 26  // height of one result's row
	plotLabel  = 170 // width of the workload/mode labels
	plotPanel  = 330 // width of each panel's bars
	plotGap    = 40  // between the panels
	plotTop    = 50  // title and panel headings
	plotBottom = 30  // legend
)

// WritePlot draws results as an SVG image: one row per workload and mode, with
// items per second on the left and put latency percentiles (p50, p90, p99, each
// bar drawn over the longer ones) on the right, each panel on its own linear scale
// with the largest value labelled. It is a small hand-written writer: the image
// has only bars, text and lines.
func WritePlot(w io.Writer, results []Result) error {
	var maxItems float64
	var maxLat time.Duration
	for _, r := range results {
		maxItems = max(maxItems, r.ItemsPerSec)
		maxLat = max(maxLat, r.Put.P99)
	}
	width := plotLabel + 2*plotPanel + plotGap + 90
	height := plotTop + plotRow*len(results) + plotBottom
	left := plotLabel
	right := plotLabel + plotPanel + plotGap
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="18" font-size="14" font-weight="bold">lss-quorum bench</text>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="40">items/s (max %.0f)</text>`+"\n", left, maxItems)
	fmt.Fprintf(&b, `<text x="%d" y="40">put latency p50 / p90 / p99 (max %v)</text>`+"\n", right, maxLat.Round(time.Microsecond))
	for i, r := range results {
		y := plotTop + i*plotRow
		label := r.Workload.String() + " / " + r.Mode.String()
		if r.Errors > 0 {
			label += fmt.Sprintf(" (%d errors)", r.Errors)
		}
		fmt.Fprintf(&b, `<text x="10" y="%d">%s</text>`+"\n", y+16, html.EscapeString(label))
		iw := scale(r.ItemsPerSec, maxItems)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="18" fill="#4c78a8"><title>%.1f items/s</title></rect>`+"\n", left, y+3, iw, r.ItemsPerSec)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#333">%.0f</text>`+"\n", float64(left)+iw+4, y+16, r.ItemsPerSec)
		for _, p := range []struct {
			name  string
			d     time.Duration
			color string
		}{{"p99", r.Put.P99, "#f2c38f"}, {"p90", r.Put.P90, "#eb9a4d"}, {"p50", r.Put.P50, "#c25e0c"}} {
			lw := scale(p.d.Seconds(), maxLat.Seconds())
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="18" fill="%s"><title>%s %v</title></rect>`+"\n",
				right, y+3, lw, p.color, p.name, p.d.Round(time.Microsecond))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#333">%v</text>`+"\n",
			float64(right)+scale(r.Put.P99.Seconds(), maxLat.Seconds())+4, y+16, r.Put.P50.Round(10*time.Microsecond))
	}
	for _, x := range []int{left, right} {
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`+"\n", x, plotTop, x, plotTop+plotRow*len(results))
	}
	ly := height - 10
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">bars: p50 (dark), p90, p99 (light); number: p50</text>`+"\n", right, ly)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// scale maps v in [0, max] to [0, plotPanel].
func scale(v, max float64) float64 {
	if max <= 0 || v <= 0 {
		return 0
	}
	return v / max * plotPanel
}
