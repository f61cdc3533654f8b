package capacity

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html"
	"github.com/fuka-load/fuka/threshold"
)

// The capacity page is built like fuka's run report (package report/html):
// one self-contained page that loads nothing, safe with hostile text (SLO
// scopes, targets and error texts come from plans and targets):
//
//   - text is placed by html/template, which escapes it for its context;
//   - the data reaches the charts as JSON in a <script type="application/json">
//     block, with <, > and & escaped, read with JSON.parse and put on the
//     page with textContent (and uPlot's labels) only;
//   - a Content-Security-Policy allows nothing but the page's own inline
//     scripts and styles, by their SHA-256 hashes (no 'unsafe-inline').

//go:embed html.tmpl
var htmlTemplate string

// htmlCSS is the capacity page's own style, on top of report/html's.
const htmlCSS = `.answer .big { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 14px; margin: 0 0 6px; }
.answer .big .what { color: var(--muted); font-size: 15px; }
.answer .big b { font-size: 44px; line-height: 1.1; font-variant-numeric: tabular-nums; color: var(--good); }
.answer.lower .big b { color: var(--warn); }
.answer.none .big b { color: var(--bad); }
.answer .why { margin: 0 0 12px; }
.answer dl { margin-top: 8px; }
.advice { border-left: 3px solid var(--warn); background: #fffbeb; padding: 6px 12px; margin: 12px 0 0; }
ul.terms { margin: 0; padding-left: 18px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
tr.answer td { background: #f0fdf4; font-weight: 600; }
tr.superseded td { color: var(--muted); }
td.terms { white-space: normal !important; text-align: left !important; min-width: 22ch; overflow-wrap: anywhere; }
table.num th.terms { text-align: left; }
table.num td.phase { text-align: left; }
.uplot .u-legend { max-width: 100%; }
.uplot .u-legend th { white-space: normal; overflow-wrap: anywhere; }
`

var capacityPage = template.Must(template.New("capacity").Parse(htmlTemplate))

// RunInfo is what the page says about the search around its report: what
// was searched, when, by which fuka. Every field is optional.
type RunInfo struct {
	Name        string        `json:"name,omitempty"`   // the plan's name
	Target      string        `json:"target,omitempty"` // the URL or base URL
	Version     string        `json:"fuka_version,omitempty"`
	Started     time.Time     `json:"started,omitzero"`
	Duration    time.Duration `json:"-"`
	Interrupted bool          `json:"interrupted,omitempty"`
}

// WriteHTML renders r as one self-contained HTML page to w: the answer with
// its evidence (the SLO, the first limit hit and the advice, the knee),
// charts of latency, errors and throughput by rate, and the table of steps.
// The page is complete before the first byte is written, so a failed render
// writes nothing.
func WriteHTML(w io.Writer, r *Report) error {
	return WriteHTMLRun(w, r, RunInfo{})
}

// WriteHTMLRun is [WriteHTML] with what the page says about the search.
func WriteHTMLRun(w io.Writer, r *Report, info RunInfo) error {
	if r == nil {
		return errors.New("capacity: html: no report")
	}
	// encoding/json escapes <, > and & (and U+2028, U+2029) as \u00XX, so
	// the data can neither end its <script> block nor open a comment.
	data, err := json.Marshal(struct {
		Run    RunInfo   `json:"run"`
		Report *Report   `json:"report"`
		Chart  chartData `json:"chart"`
	}{info, r, newChartData(r)})
	if err != nil {
		return fmt.Errorf("capacity: html: encode report: %w", err)
	}
	p := newHTMLPage(r, info)
	p.Data = template.JS(data)
	p.Style = template.CSS(html.ChartCSS + "\n" + html.StyleCSS + "\n" + htmlCSS)
	// The charts are report/html's: the same script, byte for byte, as the
	// run report's, so one fix reaches both pages.
	scripts := []string{html.ChartJS, html.ChartsJS, html.CapacityJS}
	for _, s := range scripts {
		p.Scripts = append(p.Scripts, template.JS(s))
	}
	p.CSP = html.CSP(scripts, []string{string(p.Style)})

	var buf bytes.Buffer
	if err := capacityPage.Execute(&buf, p); err != nil {
		return fmt.Errorf("capacity: html: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("capacity: html: write: %w", err)
	}
	return nil
}

// htmlPage is what the template renders: the report's numbers already
// formatted for people, so the template only places text.
type htmlPage struct {
	CSP     string
	Style   template.CSS
	Scripts []template.JS
	Data    template.JS

	Title, Headline string
	Interrupted     bool
	Found           bool
	LowerBound      bool
	Answer          string   // "480/s" or "none"
	AnswerWhy       string   // what the answer means, with its step's numbers
	Range           string   // "[480, 520)/s", "" when no step above failed
	SLO             []string // the terms
	Limit           string   // the first limit hit, "" when nothing failed
	LimitAt         string
	LimitWhy        []string
	LimitedBy       []string // the findings of the first failing step that name a limit
	Knee            string
	Stopped         string
	Advice          string
	Search          []fact // how the search was set up
	Steps           []stepRow
	Charted         int // steps on the charts (the deciding ones)
	HasGenCPU       bool
	HasTargetCPU    bool
	TargetCPUSeries string
}

type fact struct{ Label, Value string }

// stepRow is one step of the table, in the order the steps ran.
type stepRow struct {
	N, Phase, Rate, RPS, P50, P99 string
	Errors, Dropped               string
	ErrorsBad, DroppedBad         bool
	GenCPU, TargetCPU             string
	Pass, Superseded, Answer      bool
	Hard                          bool
	Limit                         string
	Failed                        []string
}

func newHTMLPage(r *Report, info RunInfo) *htmlPage {
	p := &htmlPage{
		Title: "fuka capacity", Interrupted: info.Interrupted || r.Stopped == StopInterrupted,
		Found: r.Found, LowerBound: r.LowerBound, SLO: r.SLO,
		Limit: r.Limit, LimitWhy: r.LimitWhy, Advice: r.Advice, Stopped: r.stoppedText(),
	}
	p.Headline = info.Name
	if p.Headline == "" {
		p.Headline = info.Target
	}
	if p.Headline != "" {
		p.Title += " — " + p.Headline
	}
	if r.Found {
		a := r.step(r.Answer)
		p.Answer = FormatRate(r.Answer) + "/s"
		p.AnswerWhy = fmt.Sprintf("the highest rate that met the SLO: p50 %s, p99 %s, errors %.2f%%, achieved %.1f/s.",
			report.FormatMS(a.P50MS), report.FormatMS(a.P99MS), a.ErrorRate*100, a.RPS)
		if r.LowerBound {
			p.AnswerWhy = "a lower bound: " + p.AnswerWhy + " The target may take more (see the advice)."
		}
	} else {
		p.Answer = "none"
		p.AnswerWhy = "no step met the SLO."
		if len(r.Steps) > 0 {
			p.AnswerWhy = fmt.Sprintf("even %s/s, the lowest rate tried, failed the SLO.", FormatRate(r.Min))
		} else if r.Stopped != "" {
			p.AnswerWhy = "no step was measured."
		}
	}
	if r.Found && r.FailedAt > 0 {
		p.Range = fmt.Sprintf("[%s, %s)/s", FormatRate(r.Answer), FormatRate(r.FailedAt))
	}
	if r.Limit != "" {
		p.LimitAt = FormatRate(r.LimitAt) + "/s"
	}
	for _, f := range r.LimitedBy {
		p.LimitedBy = append(p.LimitedBy, f.Summary+" ("+f.Confidence+")")
	}
	if k := r.Knee; k != nil {
		p.Knee = fmt.Sprintf("%s/s: p99 %s, over twice the %s at %s/s", FormatRate(k.Rate), report.FormatMS(k.P99MS), report.FormatMS(k.BaselineP99MS), FormatRate(k.BaselineRate))
	} else if len(r.Steps) > 0 {
		p.Knee = "none: p99 never rose to twice its lowest-rate value for good"
	}

	add := func(label, value string) { p.Search = append(p.Search, fact{label, value}) }
	if info.Target != "" {
		add("target", info.Target)
	}
	bounds := fmt.Sprintf("from %s/s", FormatRate(r.Min))
	if r.Max > 0 {
		bounds += fmt.Sprintf(" up to %s/s", FormatRate(r.Max))
	} else {
		bounds += ", no upper bound"
	}
	add("rates", bounds)
	add("precision", fmt.Sprintf("%g%%", r.Precision*100))
	add("step", (time.Duration(r.HoldS*float64(time.Second))).String()+" each, warm-up included")
	add("steps", fmt.Sprint(len(r.Steps)))
	if !info.Started.IsZero() {
		add("started", info.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if info.Duration > 0 {
		add("took", info.Duration.Round(time.Second).String())
	}
	if info.Version != "" {
		add("fuka", info.Version)
	}

	answerRow := -1
	for i, s := range r.Steps {
		if r.Found && s.Rate == r.Answer && !s.Superseded {
			answerRow = i
		}
	}
	for i, s := range r.Steps {
		row := stepRow{
			N: fmt.Sprint(i + 1), Phase: s.Phase, Rate: FormatRate(s.Rate), RPS: fmt.Sprintf("%.1f", s.RPS),
			P50: report.FormatMS(s.P50MS), P99: report.FormatMS(s.P99MS),
			Errors: fmt.Sprintf("%.2f%%", s.ErrorRate*100), ErrorsBad: s.ErrorRate > 0,
			Dropped: fmt.Sprintf("%.2f%%", s.DroppedRatio*100), DroppedBad: s.DroppedRatio > 0,
			GenCPU: pct(s.GenCPUPct), TargetCPU: pct(s.TargetCPUPct),
			Pass: s.Pass, Superseded: s.Superseded, Answer: i == answerRow, Hard: s.Hard,
			Limit: s.Limit, Failed: s.Failed,
		}
		if s.Retry > 0 {
			row.Phase += fmt.Sprintf(" (again, %d)", s.Retry)
		}
		p.HasGenCPU = p.HasGenCPU || s.GenCPUPct != nil
		if s.TargetCPUPct != nil {
			p.HasTargetCPU = true
			p.TargetCPUSeries = s.TargetCPUSeries
		}
		p.Steps = append(p.Steps, row)
	}
	p.Charted = len(deciding(r.Steps))
	return p
}

// chartData is what the page's script draws: the deciding steps sorted by
// rate, one entry per step in each array, and the SLO terms it can draw as
// lines.
type chartData struct {
	Rate       []float64 `json:"rate"`
	P50MS      []float64 `json:"p50_ms"`
	P99MS      []float64 `json:"p99_ms"`
	Pass       []bool    `json:"pass"`
	ErrorPct   []float64 `json:"error_pct"`
	DroppedPct []float64 `json:"dropped_pct"`
	RPS        []float64 `json:"achieved_rps"`
	// SLOLatency are the SLO's latency bounds (ms), SLOErrors its error
	// rate bounds (percent).
	SLOLatency []sloLine `json:"slo_latency"`
	SLOErrors  []sloLine `json:"slo_errors"`
	Answer     float64   `json:"answer"` // 0: none
	Knee       float64   `json:"knee"`   // 0: none
}

type sloLine struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

func newChartData(r *Report) chartData {
	c := chartData{
		Rate: []float64{}, P50MS: []float64{}, P99MS: []float64{}, Pass: []bool{},
		ErrorPct: []float64{}, DroppedPct: []float64{}, RPS: []float64{},
		SLOLatency: []sloLine{}, SLOErrors: []sloLine{},
	}
	for _, s := range deciding(r.Steps) {
		c.Rate = append(c.Rate, s.Rate)
		c.P50MS = append(c.P50MS, s.P50MS)
		c.P99MS = append(c.P99MS, s.P99MS)
		c.Pass = append(c.Pass, s.Pass)
		c.ErrorPct = append(c.ErrorPct, s.ErrorRate*100)
		c.DroppedPct = append(c.DroppedPct, s.DroppedRatio*100)
		c.RPS = append(c.RPS, s.RPS)
	}
	for _, term := range r.SLO {
		e, err := threshold.Parse(term)
		if err != nil || (e.Op != "<" && e.Op != "<=") {
			continue // only an upper bound is a line to stay under
		}
		switch e.Metric {
		case threshold.P50, threshold.P90, threshold.P95, threshold.P99, threshold.P999, threshold.Max, threshold.Mean:
			if e.Value > 0 {
				c.SLOLatency = append(c.SLOLatency, sloLine{legendLabel(term), e.Value})
			}
		case threshold.ErrorRate:
			c.SLOErrors = append(c.SLOErrors, sloLine{legendLabel(term), e.Value * 100})
		}
	}
	if r.Found {
		c.Answer = r.Answer
	}
	if r.Knee != nil {
		c.Knee = r.Knee.Rate
	}
	return c
}

// legendLabel names an SLO line in a chart's legend: the term, cut short
// (the answer lists it whole).
func legendLabel(term string) string {
	const most = 60
	if r := []rune(term); len(r) > most {
		term = string(r[:most-1]) + "…"
	}
	return "SLO " + term
}
