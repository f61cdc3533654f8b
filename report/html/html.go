// Package html renders a run's [report.Summary] as one self-contained HTML
// page that reads top-down: the verdict (thresholds passed or failed, the
// key numbers), the findings, then the run, per-request and per-check
// tables, charts over time on one shared time axis (throughput, latency
// percentiles beside the run's latency distribution, clients, errors,
// dropped starts), the monitored resources grouped by source with the
// series that did not move folded into one line, and the profiles
// captured during the run.
//
// The page works offline: the chart library (uPlot, MIT, vendored in
// assets/) and all styles and scripts are inlined, and the page loads
// nothing. It is built to be safe with hostile data, since names, URLs and
// error texts come from plans and from the target:
//
//   - text is placed by html/template, which escapes it for its context;
//   - the summary reaches the charts as JSON in a
//     <script type="application/json"> block, with <, > and & escaped, read
//     with JSON.parse and put on the page with textContent only;
//   - a Content-Security-Policy allows nothing but the page's own inline
//     scripts and styles, by their SHA-256 hashes (no 'unsafe-inline').
package html

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/fuka-load/fuka/report"
)

// ChartJS is the chart library, uPlot 1.6.32 (MIT, see assets/uPlot.LICENSE),
// as a minified script that defines the global uPlot. The live dashboard
// serves the same file.
//
//go:embed assets/uPlot.iife.min.js
var ChartJS string

// ChartCSS is uPlot's stylesheet, for pages that use [ChartJS].
//
//go:embed assets/uPlot.min.css
var ChartCSS string

// ChartsJS is fuka's one chart and number-format script, drawn with
// [ChartJS]; every page that has charts uses it, and none has a copy. It
// defines the global fukaCharts:
//
//	fukaCharts.format.ms(12.5)        // "12.5ms"; also compact, bytes, secs, pct, rate
//	const tl = fukaCharts.timeline({load: el, resources: el2});
//	tl.update(summary)                // the summary's JSON form; call again as it grows
//	tl.charts()                       // the uPlot instances, in page order
//	tl.addGroup({el, names, key})     // more resource charts, on the same axis and zoom
//	fukaCharts.distribution(el, summary) // the latency percentile curve of the run
//	fukaCharts.byRate(el, chart)      // a capacity search's steps by rate
//
// The run report, the live dashboard and the capacity report draw with it.
//
//go:embed assets/charts.js
var ChartsJS string

// CapacityJS starts the capacity report's charts: it reads the page's
// #fuka-data block and draws its "chart" object with fukaCharts.byRate
// into #capacity-charts. It comes after [ChartJS] and [ChartsJS].
//
//go:embed assets/capacity.js
var CapacityJS string

// StyleCSS is the stylesheet of fuka's pages (report and dashboard), to be
// used together with [ChartCSS].
//
//go:embed assets/fuka.css
var StyleCSS string

//go:embed assets/report.js
var reportJS string

//go:embed page.tmpl findings.tmpl
var templates embed.FS

var pageTemplate = template.Must(template.New("page.tmpl").ParseFS(templates, "page.tmpl", "findings.tmpl"))

// Write renders s as one HTML page to w. The page is complete before the
// first byte is written, so a failed render writes nothing.
func Write(w io.Writer, s *report.Summary) error {
	if s == nil {
		return errors.New("report: html: no summary")
	}
	// encoding/json escapes <, > and & (and U+2028, U+2029) as \u00XX, so
	// the data can neither end its <script> block nor open a comment.
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("report: html: encode summary: %w", err)
	}
	p := newPage(s)
	p.Data = template.JS(data)
	var groups []resourceGroup
	if p.Resources != nil {
		groups = p.Resources.Groups
	}
	layout, err := json.Marshal(map[string]any{"groups": layoutOf(groups)})
	if err != nil {
		return fmt.Errorf("report: html: encode layout: %w", err)
	}
	p.Layout = template.JS(layout)
	p.Style = template.CSS(ChartCSS + "\n" + StyleCSS)
	p.Scripts = []template.JS{template.JS(ChartJS), template.JS(ChartsJS), template.JS(reportJS)}
	p.CSP = CSP(jsStrings(p.Scripts), []string{string(p.Style)})

	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: html: write: %w", err)
	}
	return nil
}

// SourceHash is the CSP source expression that allows one inline script or
// style block whose text is exactly src: 'sha256-<base64>'.
func SourceHash(src string) string {
	sum := sha256.Sum256([]byte(src))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// CSP is the Content-Security-Policy of a fuka page whose inline scripts and
// styles are exactly scripts and styles: everything else is denied, images
// may only be data: URLs, and extra directives (e.g. "connect-src 'self'")
// are appended.
func CSP(scripts, styles []string, extra ...string) string {
	hashes := func(srcs []string) string {
		if len(srcs) == 0 {
			return "'none'"
		}
		h := make([]string, len(srcs))
		for i, s := range srcs {
			h[i] = SourceHash(s)
		}
		return strings.Join(h, " ")
	}
	d := []string{
		"default-src 'none'",
		"script-src " + hashes(scripts),
		"style-src " + hashes(styles),
		"img-src data:",
		"base-uri 'none'",
		"form-action 'none'",
	}
	return strings.Join(append(d, extra...), "; ")
}

func jsStrings(js []template.JS) []string {
	s := make([]string, len(js))
	for i, j := range js {
		s[i] = string(j)
	}
	return s
}
