package report

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// WriteMarkdown writes a short markdown summary of the run for a CI job's
// page (GitHub's $GITHUB_STEP_SUMMARY, a merge request comment): the
// verdict, the key numbers, the thresholds with ✓/✗, the findings, the
// checks, the warnings, and previous, a markdown section comparing the run with the
// previous one of the same plan (history.Comparison.WriteMarkdown), or a
// line saying why there is none.
func WriteMarkdown(w io.Writer, s *Summary, v Verdict, previous string) error {
	var b strings.Builder
	icon, word := "✅", "passed"
	switch {
	case v.Code == 1:
		icon, word = "❌", "failed"
	case !v.Passed():
		icon, word = "⚠️", strings.ReplaceAll(v.Status, "_", " ")
	}
	fmt.Fprintf(&b, "### %s %s: %s\n\n", icon, MDEscape(ciName(s)), word)
	if v.Why != "" {
		fmt.Fprintf(&b, "%s\n\n", MDEscape(v.Why))
	}
	b.WriteString("| requests | throughput | p50 | p95 | p99 | errors | duration |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|\n")
	lat := func(ms float64) string {
		if s.Requests == s.Failed {
			return "—" // no response: no latency was measured
		}
		return FormatMS(ms)
	}
	fmt.Fprintf(&b, "| %s | %s/s | %s | %s | %s | %s (%s) | %s |\n\n",
		FormatInt(s.Requests), FormatRate(s.RPS), lat(s.Latency.P50MS), lat(s.Latency.P95MS), lat(s.Latency.P99MS),
		FormatInt(s.Failed), FormatPercent(float64(s.Failed), float64(s.Requests), 2), FormatSeconds(s.DurationS))
	if len(s.Thresholds) > 0 {
		b.WriteString("**Thresholds**\n\n")
		for _, t := range s.Thresholds {
			mark := "✓"
			if !t.Pass {
				mark = "✗"
			}
			fmt.Fprintf(&b, "- %s %s\n", mark, MDEscape(unmark(t.Detail)))
		}
		b.WriteString("\n")
	}
	if len(s.Findings) > 0 {
		b.WriteString("**Findings**\n\n")
		for i, f := range s.Findings {
			fmt.Fprintf(&b, "%d. %s (%s)\n", i+1, MDEscape(f.Summary), f.Confidence)
		}
		b.WriteString("\n")
	}
	if len(s.Checks) > 0 {
		b.WriteString("**Checks**\n\n")
		for _, c := range s.Checks {
			fmt.Fprintf(&b, "- %s %s: %s passed, %s failed\n", c.Mark(), MDEscape(c.Name), FormatInt(c.Passes), FormatInt(c.Fails))
		}
		b.WriteString("\n")
	}
	for _, msg := range s.Warnings {
		fmt.Fprintf(&b, "> ⚠️ %s\n\n", MDEscape(msg))
	}
	if previous != "" {
		b.WriteString(strings.TrimRight(previous, "\n") + "\n\n")
	}
	if s.ReportFile != "" {
		fmt.Fprintf(&b, "HTML report: `%s`\n\n", strings.ReplaceAll(clean(s.ReportFile), "`", "'"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("report: write markdown: %w", err)
	}
	return nil
}

// MDEscape makes s literal text in markdown (GitHub's, which also renders
// HTML): a plan's name, a URL, a threshold or a warning cannot start a
// table cell, a link, a heading or a tag, and a newline cannot end the line.
func MDEscape(s string) string {
	var b strings.Builder
	for _, r := range clean(s) {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '|', '#', '!', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clean turns control characters (a newline in a name) into spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
