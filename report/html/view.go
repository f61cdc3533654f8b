package html

import (
	"cmp"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// page is what the template renders: the numbers of a Summary already
// formatted for people, so the template only places text.
type page struct {
	CSP     string
	Style   template.CSS
	Scripts []template.JS
	Data    template.JS // the summary as JSON, <>& escaped

	Title       string
	Headline    string // plan name, or what was attacked in quick mode
	Interrupted bool
	Run         []fact // how the run was set up
	Totals      []fact // what it measured, in total
	Warnings    []string
	Thresholds  []report.ThresholdResult
	ThresholdOK int // thresholds that passed
	Requests    []requestRow
	Total       requestRow
	Scenarios   []requestRow // a plan's scenarios, then its groups
	Groups      []requestRow
	Checks      []checkRow
	HasDropped  bool // the dropped-starts chart is drawn
	HasTimeline bool
	Resources   *resourcesView
	Profiles    []profileView
	Scaling     []scalingRow // scale-outs of watched Kubernetes workloads
}

// fact is one label and value of the run summary; Bad marks a value the
// reader should look at (errors, drops).
type fact struct {
	Label, Value string
	Bad          bool
}

type requestRow struct {
	Name                    string
	Requests, RPS           string
	P50, P90, P95, P99, Max string
	ErrorPct                string
	Failed                  bool
	Retried                 string // requests that were retries of a failed attempt
	Status                  string
	Checks                  string // "passed / run"; "" without checks
	ChecksFailed            bool
	HasChecks               bool
}

type checkRow struct {
	Name          string
	Passes, Fails string
	PassPct       string
	Failed        bool
}

type resourcesView struct {
	Series   []seriesRow
	Failures []failureRow
}

type seriesRow struct {
	Name, Peak, Mean, Samples string
}

// failureRow is one sampler's failures over the run: how many, when, and
// the last error.
type failureRow struct {
	Source, Count, First, Last, Error string
}

type profileView struct {
	Kind, URL, File, At, Error string
	Top                        []profileFuncRow
}

type profileFuncRow struct {
	Name, Flat, FlatPct, Cum, CumPct string
}

func newPage(s *report.Summary) *page {
	p := &page{Interrupted: s.Interrupted, Warnings: s.Warnings, Thresholds: s.Thresholds}
	for _, e := range s.Scaling {
		r := scalingRow{
			Workload: e.Workload, From: fmtInt(int64(e.FromReplicas)), To: fmtInt(int64(e.ToReplicas)),
			LoadStep: fmtSeconds(e.LoadStepS), ScaleOut: fmtSeconds(e.ScaleOutS), Ready: "not ready by the end", TimeToScale: "–",
			P99Max: fmtMS(e.P99DuringMS), P99Mean: fmtMS(e.P99MeanDuringMS),
		}
		if e.ReadyS != nil {
			r.Ready = fmtSeconds(*e.ReadyS)
		}
		if e.TimeToScaleS != nil {
			r.TimeToScale = fmtSeconds(*e.TimeToScaleS)
		}
		p.Scaling = append(p.Scaling, r)
	}

	p.Headline = s.Name
	if p.Headline == "" {
		p.Headline = strings.TrimSpace(s.Method + " " + s.Target)
	}
	p.Title = "fuka report"
	if p.Headline != "" {
		p.Title += " — " + p.Headline
	}

	p.Run = runFacts(s)
	p.Totals = totalFacts(s)
	for _, t := range s.Thresholds {
		if t.Pass {
			p.ThresholdOK++
		}
	}
	p.Requests, p.Total = requestRows(s)
	p.Scenarios, p.Groups = scopeRows(s.Scenarios, "scenario "), scopeRows(s.Groups, "group ")
	for _, c := range s.Checks {
		p.Checks = append(p.Checks, checkRow{
			Name:    c.Name,
			Passes:  fmtInt(c.Passes),
			Fails:   fmtInt(c.Fails),
			PassPct: fmtPct(float64(c.Passes), float64(c.Passes+c.Fails)),
			Failed:  c.Fails > 0,
		})
	}
	p.HasTimeline = len(s.Timeline) > 0
	p.HasDropped = s.Model == report.ModelOpen || s.Dropped > 0
	if s.Resources != nil {
		p.Resources = newResources(s.Resources)
	}
	for _, pr := range s.Profiles {
		p.Profiles = append(p.Profiles, newProfile(pr))
	}
	return p
}

func runFacts(s *report.Summary) []fact {
	var f []fact
	add := func(label, value string) {
		if value != "" {
			f = append(f, fact{Label: label, Value: value})
		}
	}
	add("plan", s.Name)
	add("target", strings.TrimSpace(s.Method+" "+s.Target))
	if !s.Started.IsZero() {
		add("started", s.Started.Format("2006-01-02 15:04:05 MST"))
	}
	dur := fmtSeconds(s.DurationS)
	if s.PlannedDurationS > 0 && s.PlannedDurationS != s.DurationS {
		dur += " of " + fmtSeconds(s.PlannedDurationS) + " planned"
	}
	if s.Interrupted {
		dur += " (interrupted)"
	}
	add("duration", dur)
	if end := report.EndText(s.EndReason, s.EndDetail, secondsDur(s.DurationS), secondsDur(s.PlannedDurationS)); end != "" {
		f = append(f, fact{Label: "ended", Value: end, Bad: report.EarlyEnd(s.EndReason)})
	}

	model := s.Model
	switch s.Model {
	case report.ModelOpen:
		model = "open (arrival rate)"
	case report.ModelClosed:
		model = "closed (clients)"
	}
	add("load model", model)
	clients := fmtInt(int64(s.Clients))
	if s.Model == report.ModelOpen {
		clients += " at most in flight"
	}
	if s.MaxClients > 0 {
		clients += " (cap " + fmtInt(int64(s.MaxClients)) + ")"
	}
	add("clients", clients)
	if s.RequestedStartRate != nil {
		r := fmtRate(*s.RequestedStartRate) + " starts/s"
		if s.AchievedStartRatio != nil {
			r += " (achieved " + fmtFixed(100**s.AchievedStartRatio, 1) + "%)"
		}
		add("requested rate", r)
	}
	if s.RequestedRPS != nil {
		r := fmtRate(*s.RequestedRPS) + " req/s"
		if s.AchievedRPSRatio != nil {
			r += " (achieved " + fmtFixed(100**s.AchievedRPSRatio, 1) + "%)"
		}
		add("rate cap", r)
	}
	switch s.LatencyFrom {
	case report.FromIntended:
		add("latency from", "the intended start (no coordinated omission)")
	case report.FromSend:
		add("latency from", "the send")
	}
	add("fuka", s.Version)
	return f
}

func totalFacts(s *report.Summary) []fact {
	var f []fact
	if s.StartsDue != nil && s.Starts != nil {
		// The open model's rate is of scenario starts; requests follow.
		f = append(f, fact{Label: "starts", Value: fmtInt(*s.Starts) + " of " + fmtInt(*s.StartsDue) + " due"})
	}
	f = append(f,
		fact{Label: "requests", Value: fmtInt(s.Requests)},
		fact{Label: "retried", Value: fmtInt(s.Retried)},
		fact{Label: "throughput", Value: fmtRate(s.RPS) + " req/s"},
		fact{Label: "failed", Value: failedText(s), Bad: s.Failed > 0},
	)
	if s.Model == report.ModelOpen || s.Dropped > 0 {
		f = append(f, fact{Label: "dropped starts", Value: fmtInt(s.Dropped), Bad: s.Dropped > 0})
	}
	if s.Requests > 0 {
		l := s.Latency
		f = append(f,
			fact{Label: "latency p50 / p95 / p99", Value: fmtMS(l.P50MS) + " / " + fmtMS(l.P95MS) + " / " + fmtMS(l.P99MS)},
			fact{Label: "latency max", Value: fmtMS(l.MaxMS)},
		)
		if s.LatencyFrom == report.FromIntended {
			st := s.ServiceTime
			f = append(f, fact{Label: "service time p50 / p95 / p99", Value: fmtMS(st.P50MS) + " / " + fmtMS(st.P95MS) + " / " + fmtMS(st.P99MS)})
		}
	}
	f = append(f,
		fact{Label: "data in / out", Value: fmtBytes(float64(s.BytesIn)) + " / " + fmtBytes(float64(s.BytesOut)) + " (" + fmtBytes(s.ThroughputBPS) + "/s in)"},
		fact{Label: "status", Value: statusText(s.Status)},
		fact{Label: "transport errors", Value: errorsText(s.Errors), Bad: s.Errors.Total() > 0},
	)
	return f
}

// failedText is the failed count, its share and what the failures were.
func failedText(s *report.Summary) string {
	v := fmtInt(s.Failed) + " (" + fmtPct(float64(s.Failed), float64(s.Requests)) + ")"
	if s.Failed > 0 {
		v += ": " + s.FailedParts()
	}
	return v
}

// requestRows are the per-name rows and the total. A check belongs to the
// request whose name prefixes it ("list products: status"), as plans name them.
func requestRows(s *report.Summary) ([]requestRow, requestRow) {
	row := func(name string, req, failed, retried int64, rps float64, l report.Latency, status map[string]int64) requestRow {
		r := requestRow{
			Name: name, Requests: fmtInt(req), RPS: fmtRate(rps),
			P50: fmtMS(l.P50MS), P90: fmtMS(l.P90MS), P95: fmtMS(l.P95MS), P99: fmtMS(l.P99MS), Max: fmtMS(l.MaxMS),
			ErrorPct: fmtPct(float64(failed), float64(req)), Failed: failed > 0, Retried: fmtInt(retried),
			Status: statusText(status),
		}
		if req == 0 {
			r.P50, r.P90, r.P95, r.P99, r.Max = "–", "–", "–", "–", "–"
		}
		return r
	}
	rows := make([]requestRow, 0, len(s.ByName))
	for _, n := range s.ByName {
		r := row(n.Name, n.Requests, n.Failed, n.Retried, n.RPS, n.Latency, n.Status)
		var passes, fails, matching int64
		for _, c := range s.Checks {
			if strings.HasPrefix(c.Name, n.Name+": ") {
				passes, fails, matching = passes+c.Passes, fails+c.Fails, matching+1
			}
		}
		if matching > 0 {
			r.HasChecks, r.ChecksFailed = true, fails > 0
			r.Checks = fmtInt(passes) + " / " + fmtInt(passes+fails)
		}
		rows = append(rows, r)
	}
	total := row("all requests", s.Requests, s.Failed, s.Retried, s.RPS, s.Latency, s.Status)
	var passes, fails int64
	for _, c := range s.Checks {
		passes += c.Passes
		fails += c.Fails
	}
	if len(s.Checks) > 0 {
		total.HasChecks, total.ChecksFailed = true, fails > 0
		total.Checks = fmtInt(passes) + " / " + fmtInt(passes+fails)
	}
	return rows, total
}

// scopeRows are the rows of scenarios or groups (checks are per request, so
// they are not repeated here).
func scopeRows(ns []report.NameSummary, kind string) []requestRow {
	var rows []requestRow
	for _, n := range ns {
		r := requestRow{
			Name: kind + n.Name, Requests: fmtInt(n.Requests), RPS: fmtRate(n.RPS),
			P50: fmtMS(n.Latency.P50MS), P90: fmtMS(n.Latency.P90MS), P95: fmtMS(n.Latency.P95MS), P99: fmtMS(n.Latency.P99MS), Max: fmtMS(n.Latency.MaxMS),
			ErrorPct: fmtPct(float64(n.Failed), float64(n.Requests)), Failed: n.Failed > 0, Retried: fmtInt(n.Retried),
			Status: statusText(n.Status),
		}
		if n.Requests == 0 {
			r.P50, r.P90, r.P95, r.P99, r.Max = "–", "–", "–", "–", "–"
		}
		rows = append(rows, r)
	}
	return rows
}

func newResources(r *report.Resources) *resourcesView {
	v := &resourcesView{}
	for _, st := range r.Series {
		v.Series = append(v.Series, seriesRow{
			Name:    st.Name,
			Peak:    fmtValue(st.Name, st.Peak),
			Mean:    fmtValue(st.Name, st.Mean),
			Samples: fmtInt(int64(st.Samples)),
		})
	}
	// One row per failing source, in order of its first failure.
	type agg struct {
		n           int
		first, last float64
		err         string
	}
	bySource := map[string]*agg{}
	var order []string
	for _, f := range r.Failures {
		a := bySource[f.Source]
		if a == nil {
			a = &agg{first: f.TS}
			bySource[f.Source] = a
			order = append(order, f.Source)
		}
		a.n++
		a.last, a.err = f.TS, f.Error
	}
	for _, src := range order {
		a := bySource[src]
		v.Failures = append(v.Failures, failureRow{
			Source: src, Count: fmtInt(int64(a.n)),
			First: fmtSeconds(a.first), Last: fmtSeconds(a.last), Error: a.err,
		})
	}
	return v
}

func newProfile(p report.ProfileSummary) profileView {
	v := profileView{Kind: p.Kind, URL: p.URL, File: p.File, At: fmtSeconds(p.StartedS), Error: p.Error}
	top := slices.Clone(p.Top)
	slices.SortStableFunc(top, func(a, b report.ProfileFunc) int { return cmp.Compare(b.Flat, a.Flat) })
	for _, f := range top {
		v.Top = append(v.Top, profileFuncRow{
			Name:    f.Name,
			Flat:    fmtProfile(p.Kind, f.Flat),
			FlatPct: fmtFixed(f.FlatPct, 1) + "%",
			Cum:     fmtProfile(p.Kind, f.Cum),
			CumPct:  fmtFixed(f.CumPct, 1) + "%",
		})
	}
	return v
}

// fmtProfile renders a profile value in its kind's unit: seconds of CPU,
// bytes of heap, or a count (goroutines, and kinds this version does not know).
func fmtProfile(kind string, v float64) string {
	switch {
	case kind == "cpu":
		return fmtMS(v * 1000)
	case kind == "heap" || kind == "allocs":
		return fmtBytes(v)
	default:
		return fmtFixed(v, 0)
	}
}

// fmtValue renders a resource value by the unit its name ends in.
func fmtValue(name string, v float64) string {
	switch {
	case strings.HasSuffix(name, "_bytes_per_s"):
		return fmtBytes(v) + "/s"
	case strings.HasSuffix(name, "_per_s"):
		return fmtFixed(v, 1) + "/s"
	case strings.HasSuffix(name, "_bytes"):
		return fmtBytes(v)
	case strings.HasSuffix(name, "_pct"):
		return fmtFixed(v, 1) + "%"
	case v == math.Trunc(v):
		return fmtFixed(v, 0)
	default:
		return fmtFixed(v, 2)
	}
}

func statusText(m map[string]int64) string {
	if len(m) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // three-digit codes sort numerically; "invalid" last
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " × " + fmtInt(m[k])
	}
	return strings.Join(parts, ", ")
}

func errorsText(c report.ErrorCounts) string {
	var parts []string
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		if c[k] > 0 {
			parts = append(parts, k.String()+" × "+fmtInt(c[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Number formats for people; the JSON block keeps the exact values.

// fmtInt renders n with thousands separators: 1234567 → "1,234,567".
func fmtInt(n int64) string { return fmtFixed(float64(n), 0) }

// fmtFixed renders f with prec decimals and thousands separators.
func fmtFixed(f float64, prec int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	s := strconv.FormatFloat(math.Abs(f), 'f', prec, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if f < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// fmtRate renders a rate: whole numbers without decimals, others with one.
func fmtRate(f float64) string {
	if f == math.Trunc(f) {
		return fmtFixed(f, 0)
	}
	return fmtFixed(f, 1)
}

// fmtPct is 100·part/whole with two decimals; 0% when whole is 0.
func fmtPct(part, whole float64) string {
	if whole == 0 {
		return "0%"
	}
	return fmtFixed(100*part/whole, 2) + "%"
}

// fmtMS renders a latency given in milliseconds with three significant
// digits in a unit that suits it: "512µs", "1.90ms", "123ms", "1.23s".
func fmtMS(ms float64) string {
	switch {
	case ms < 1:
		return strconv.FormatFloat(math.Round(ms*1000), 'f', 0, 64) + "µs"
	case ms < 1000:
		return sig3(ms) + "ms"
	default:
		return sig3(ms/1000) + "s"
	}
}

func sig3(v float64) string {
	prec := 2
	if math.Round(v*100)/100 >= 10 {
		prec = 1
	}
	if math.Round(v*10)/10 >= 100 {
		prec = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// secondsDur converts float seconds to a duration, to the millisecond.
func secondsDur(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

// fmtSeconds renders a span of seconds: "2.5s", "2m30s".
func fmtSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < time.Minute {
		return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// fmtBytes renders a byte count in IEC units: "512 B", "12.3 MiB".
func fmtBytes(n float64) string {
	const units = "KMGTPE"
	if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
		n = 0
	}
	if n < 1024 {
		return strconv.FormatFloat(n, 'f', 0, 64) + " B"
	}
	i := -1
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return strconv.FormatFloat(n, 'f', 1, 64) + " " + units[i:i+1] + "iB"
}

// scalingRow is one scale-out: from the load step to the new replicas ready.
type scalingRow struct {
	Workload, From, To, LoadStep, ScaleOut, Ready, TimeToScale, P99Max, P99Mean string
}
