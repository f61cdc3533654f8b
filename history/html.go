package history

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// pageStyle is the page's only style. The Content-Security-Policy allows
// exactly this text by its hash, and nothing else at all: no scripts, no
// images, no requests, so a hostile request name or URL can at worst be
// shown, never run.
const pageStyle = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}
table{border-collapse:collapse}
th,td{padding:.25em .8em;text-align:right;white-space:nowrap}
th{border-bottom:2px solid #888}
td.name,th.name,td.metric,th.metric{text-align:left}
tr.first td{border-top:1px solid #ccc}
.regressed{color:#b00020;font-weight:600}
.improved{color:#1b7f3b;font-weight:600}
.same,.na{color:#777}
dl{display:grid;grid-template-columns:auto 1fr;gap:.2em 1em}
dt{font-weight:600}
dd{margin:0}
.totals{margin-top:1em;font-weight:600}
.differ{border-left:4px solid #b36b00;padding:.2em .8em;margin:1em 0}`

// pageTemplate is parsed once; the style is part of the template text, not
// data, so that its bytes (and hash) are exactly pageStyle.
var pageTemplate = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src '` + styleHash() + `'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fuka compare {{.TitleA}} → {{.TitleB}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
<h1>fuka compare</h1>
<dl>
<dt>A (baseline)</dt><dd>{{.SideA}}</dd>
<dt>B (new)</dt><dd>{{.SideB}}</dd>
{{- range .Imports}}
<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>
{{- end}}
<dt>noise</dt><dd>{{.Noise}}, and at least 0.1 ms for latencies, 0.1 pp for error %</dd>
</dl>
{{- if .Differs}}
<div class="differ">
<p><strong>Not the same test:</strong> A and B differ in {{.Differing}}, so a change below may come from that, not from the service.</p>
<dl>
{{- range .Differs}}
<dt>{{.What}}</dt><dd>A {{.A}} · B {{.B}}</dd>
{{- end}}
</dl>
</div>
{{- end}}
<table>
<thead><tr><th class="name">request</th><th class="metric">metric</th><th>A</th><th>B</th><th>change</th><th></th></tr></thead>
<tbody>
{{- range .Rows}}
{{- if .Only}}
<tr class="first"><td class="name">{{.Name}}</td><td class="metric na" colspan="5">{{.Only}}</td></tr>
{{- else}}
<tr{{if .First}} class="first"{{end}}><td class="name">{{if .First}}{{.Name}}{{end}}</td><td class="metric">{{.Metric}}</td><td>{{.A}}</td><td>{{.B}}</td><td>{{.Change}}</td><td class="{{.Class}}">{{.Mark}} {{.Verdict}}</td></tr>
{{- end}}
{{- end}}
</tbody>
</table>
<p class="totals">{{.Totals}}</p>
</body>
</html>
`))

// styleHash is the CSP source that allows pageStyle.
func styleHash() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

type htmlRow struct {
	Name, Metric, A, B, Change, Mark, Verdict, Class, Only string
	First                                                  bool
}

// WriteHTML writes the comparison as one self-contained HTML page: the same
// table as WriteText, with regressions and improvements coloured. Every
// name, URL and label is escaped by html/template, and the page's
// Content-Security-Policy allows only its own inline style.
func (c *Comparison) WriteHTML(w io.Writer) error {
	data := struct {
		TitleA, TitleB, SideA, SideB, Noise, Totals string
		Differing                                   string
		Differs                                     []Difference
		Imports                                     [][2]string
		Rows                                        []htmlRow
	}{
		TitleA:  title(c.A, c.SourceA),
		TitleB:  title(c.B, c.SourceB),
		SideA:   strings.Join(runLine(c.A, c.SourceA), " · "),
		SideB:   strings.Join(runLine(c.B, c.SourceB), " · "),
		Noise:   fmtNoise(c.Noise),
		Totals:  plural(c.Regressions, "regression") + ", " + plural(c.Improvements, "improvement") + c.totalsNote(),
		Imports: c.importLines(),
	}
	if len(c.Differences) > 0 {
		data.Differing = c.differing()
		for _, d := range c.Differences {
			data.Differs = append(data.Differs, Difference{What: d.What, A: d.value(d.A), B: d.value(d.B)})
		}
	}
	for _, d := range c.Rows {
		name := rowName(d.Name)
		switch {
		case d.A == nil:
			data.Rows = append(data.Rows, htmlRow{Name: name, Only: "only in B (new)"})
			continue
		case d.B == nil:
			data.Rows = append(data.Rows, htmlRow{Name: name, Only: "only in A (gone)"})
			continue
		}
		for m := range NumMetrics {
			class := string(d.Verdict[m])
			if class == "" {
				class = "na"
			}
			data.Rows = append(data.Rows, htmlRow{
				Name:    name,
				First:   m == 0,
				Metric:  m.String(),
				A:       cell(d.A, m),
				B:       cell(d.B, m),
				Change:  fmtChange(m, d),
				Mark:    strings.TrimSpace(mark(d, m)),
				Verdict: verdictText(d, m),
				Class:   class,
			})
		}
	}
	if err := pageTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("history: write comparison page: %w", err)
	}
	return nil
}

// title names a side in the page title: "#12" or the source file.
func title(r Run, source string) string {
	if r.ID > 0 {
		return "#" + strconv.FormatInt(r.ID, 10)
	}
	if source != "" {
		return source
	}
	return runName(r)
}
