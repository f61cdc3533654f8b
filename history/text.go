package history

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fuka-load/fuka/report"
)

// maxNameWidth bounds a name column; longer names are cut with an ellipsis
// so one long name cannot push the numbers off screen.
const maxNameWidth = 32

// timeLayout is how a run's start is shown, in the time's own location.
const timeLayout = "2006-01-02 15:04:05"

// WholeRun is how the whole-run row is labelled.
const WholeRun = "(all requests)"

// WriteText writes the comparison for people:
//
//	A (baseline)  #12  shop  2026-05-01 10:00:00  completed  12,000 requests
//	B (new)       #13  shop  2026-05-02 10:00:00  completed  12,400 requests
//	noise         5%, and at least 0.1 ms for latencies, 0.1 pp for error %
//
//	request         metric        A        B   change
//	(all requests)  p95     12.30ms  14.10ms   +14.6%  ▲ regressed
//
// ▲ and ▼ say which way a number moved; the word says whether that is good.
func (c *Comparison) WriteText(w io.Writer) error {
	var b strings.Builder
	side := func(label string, r Run, source string) {
		fmt.Fprintf(&b, "%-14s%s\n", label, strings.Join(runLine(r, source), "  "))
	}
	side("A (baseline)", c.A, c.SourceA)
	side("B (new)", c.B, c.SourceB)
	for _, l := range c.importLines() {
		fmt.Fprintf(&b, "%-14s%s\n", l[0], l[1])
	}
	fmt.Fprintf(&b, "%-14s%s, and at least 0.1 ms for latencies, 0.1 pp for error %%\n\n", "noise", fmtNoise(c.Noise))
	if len(c.Differences) > 0 {
		fmt.Fprintf(&b, "not the same test: A and B differ in %s, so a change below may come from that, not from the service\n", c.differing())
		rows := make([][]string, 0, len(c.Differences))
		for _, d := range c.Differences {
			rows = append(rows, []string{"  " + d.What, "A " + clip(d.value(d.A), maxNameWidth*2), "B " + clip(d.value(d.B), maxNameWidth*2)})
		}
		writeTable(&b, rows, []bool{false, false, false})
		b.WriteString("\n")
	}

	rows := [][]string{{"request", "metric", "A", "B", "change", ""}}
	for _, d := range c.Rows {
		name := clip(rowName(d.Name), maxNameWidth)
		switch {
		case d.A == nil:
			rows = append(rows, []string{name, "only in B (new)"})
			continue
		case d.B == nil:
			rows = append(rows, []string{name, "only in A (gone)"})
			continue
		}
		for m := range NumMetrics {
			label := ""
			if m == 0 {
				label = name
			}
			rows = append(rows, []string{
				label, m.String(), cell(d.A, m), cell(d.B, m),
				fmtChange(m, d), mark(d, m) + verdictText(d, m),
			})
		}
	}
	writeTable(&b, rows, []bool{false, false, true, true, true, false})
	fmt.Fprintf(&b, "\n%s, %s%s\n", plural(c.Regressions, "regression"), plural(c.Improvements, "improvement"), c.totalsNote())
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("history: write comparison: %w", err)
	}
	return nil
}

// differing names what A and B differ in: "plan and target".
func (c *Comparison) differing() string {
	whats := make([]string, len(c.Differences))
	for i, d := range c.Differences {
		whats[i] = d.What
	}
	if len(whats) == 1 {
		return whats[0]
	}
	return strings.Join(whats[:len(whats)-1], ", ") + " and " + whats[len(whats)-1]
}

// totalsNote recalls, after the count of regressions, that they are
// between different tests.
func (c *Comparison) totalsNote() string {
	if len(c.Differences) == 0 {
		return ""
	}
	return " (between runs of different " + c.differing() + ": see above)"
}

// value is how a difference's side is shown: an empty plan name is a
// quick attack's, an empty method a plan's mix.
func (d Difference) value(v string) string {
	switch {
	case v != "":
		return v
	case d.What == "plan":
		return "(none: fuka attack)"
	case d.What == "method":
		return "(the plan's)"
	}
	return "(none)"
}

// runLine describes one side of a comparison.
func runLine(r Run, source string) []string {
	var parts []string
	switch {
	case r.ID > 0:
		parts = append(parts, "#"+strconv.FormatInt(r.ID, 10))
	case source != "":
		parts = append(parts, clean(source))
	}
	parts = append(parts, clip(runName(r), maxNameWidth)+toolTag(r))
	if !r.Started.IsZero() {
		parts = append(parts, r.Started.Format(timeLayout))
	}
	if r.Status != "" {
		parts = append(parts, r.Status)
	}
	parts = append(parts, report.FormatInt(r.Requests)+" requests")
	return parts
}

// WriteRuns writes runs as a table, one line each:
//
//	id  started              name  model   requests      rps      p95      p99  error %  status
//	13  2026-05-02 10:00:00  shop  closed    12,400  1,240.0  14.10ms  30.00ms    0.00%  completed
func WriteRuns(w io.Writer, runs []Run) error {
	rows := [][]string{{"id", "started", "name", "model", "requests", "rps", "p95", "p99", "error %", "status"}}
	for _, r := range runs {
		rows = append(rows, []string{
			strconv.FormatInt(r.ID, 10),
			r.Started.Format(timeLayout),
			clip(runName(r), maxNameWidth) + toolTag(r),
			clean(r.Model),
			report.FormatInt(r.Requests),
			fmtValue(RPS, r.RPS),
			listValue(P95, r.P95MS, r.NoP95),
			listValue(P99, r.P99MS, r.NoP99),
			fmtValue(ErrorPct, r.ErrorRate*100),
			r.Status,
		})
	}
	var b strings.Builder
	writeTable(&b, rows, []bool{true, false, false, false, true, true, true, true, true, false})
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("history: write runs: %w", err)
	}
	return nil
}

// toolTag marks a run imported from another tool: " (wrk)".
func toolTag(r Run) string {
	if r.Tool == "" || r.Tool == r.Name {
		return ""
	}
	return " (" + clip(r.Tool, maxNameWidth) + ")"
}

// listValue is fmtValue, or "—" for what the run's tool did not measure.
func listValue(m Metric, v float64, missing bool) string {
	if missing {
		return "—"
	}
	return fmtValue(m, v)
}

// runName is a run's plan name or, for a quick attack, its target.
func runName(r Run) string {
	if r.Name != "" {
		return r.Name
	}
	return r.Target
}

func rowName(name string) string {
	if name == "" {
		return WholeRun
	}
	return name
}

// writeTable pads rows into columns (right-aligned where right[i]), two
// spaces apart, without trailing blanks. A row may be shorter than the header.
func writeTable(b *strings.Builder, rows [][]string, right []bool) {
	width := make([]int, len(right))
	for _, r := range rows {
		if len(r) < 3 {
			continue // a short row ("only in B") spans the columns it skips
		}
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", max(0, width[i]-utf8.RuneCountInString(c)))
			if right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// fmtValue shows a metric's value with its unit.
func fmtValue(m Metric, v float64) string {
	switch m {
	case P95, P99:
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	case RPS:
		return report.FormatFixed(v, 1) + "/s"
	case ErrorPct:
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// cell shows one side's value of m; a latency without responses, or a
// metric the run's tool did not measure, is "—".
func cell(n *Numbers, m Metric) string {
	if (m == P95 || m == P99) && n.Requests == 0 || n.Missing[m] {
		return "—"
	}
	return fmtValue(m, n.Value(m))
}

// fmtChange shows a row's change in metric m: relative for latency and
// throughput, in percentage points for error % (from 0% to 2% is "+2.00 pp",
// not an infinite rise).
func fmtChange(m Metric, d Delta) string {
	if m == ErrorPct {
		// Rounded first, and +0 for -0, so that no change never reads "-0.00".
		pp := math.Round((d.B.ErrorPct-d.A.ErrorPct)*100)/100 + 0
		return fmt.Sprintf("%+.2f pp", pp)
	}
	p := d.DeltaPct[m]
	switch {
	case math.IsNaN(p):
		return "n/a"
	case math.IsInf(p, 1):
		return "+∞"
	case math.IsInf(p, -1):
		return "-∞"
	}
	return fmt.Sprintf("%+.1f%%", p)
}

// mark shows which way a metric that changed beyond the noise moved: ▲ up,
// ▼ down (a regression is ▲ for latency and errors, ▼ for throughput).
// Changes within the noise get no mark, so the eye finds the ones that count.
func mark(d Delta, m Metric) string {
	if d.Verdict[m] == Same || d.Verdict[m] == "" {
		return "  "
	}
	switch a, b := d.A.Value(m), d.B.Value(m); {
	case b > a:
		return "▲ "
	case b < a:
		return "▼ "
	}
	return "  "
}

// verdictText is the word for row d's verdict on m.
func verdictText(d Delta, m Metric) string {
	v := d.Verdict[m]
	if v != "" {
		return string(v)
	}
	for _, n := range []*Numbers{d.A, d.B} {
		if n != nil && n.Missing[m] {
			return "not measured by " + clean(n.Tool)
		}
	}
	return "not comparable (no responses)"
}

func fmtNoise(noise float64) string {
	return strconv.FormatFloat(noise*100, 'f', -1, 64) + "%"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// clip cleans s and cuts it to n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	s = clean(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// clean replaces control characters (a newline or an escape sequence in a
// name from a plan or a URL) so that they cannot break or restyle the
// terminal's table.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '�'
		}
		return r
	}, s)
}

// importLines say, for each side made by another tool, what that tool
// measured and how: {label, text}, the notes one a line.
func (c *Comparison) importLines() [][2]string {
	var lines [][2]string
	for _, side := range []struct {
		label string
		im    *report.Imported
	}{{"A", c.ImportedA}, {"B", c.ImportedB}} {
		im := side.im
		if im == nil {
			continue
		}
		text := "imported from " + clean(im.Tool) + " (" + clean(im.Format) + "): percentiles " + clean(im.Percentiles)
		if len(im.NotMeasured) > 0 {
			text += "; not measured: " + clean(strings.Join(im.NotMeasured, ", "))
		}
		lines = append(lines, [2]string{side.label + " (" + clean(im.Tool) + ")", text})
		for _, n := range im.Notes {
			lines = append(lines, [2]string{"", clean(n)})
		}
	}
	return lines
}
