package html

import (
	"cmp"
	"html/template"
	"math"
	"slices"
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
	Layout  template.JS // the resource groups (groupLayout) as JSON, likewise

	Title       string
	Headline    string // plan name, or what was attacked in quick mode
	Interrupted bool
	Verdict     verdict
	Key         []fact // the numbers of the verdict's first screen
	Run         []fact // how the run was set up
	Totals      []fact // what it measured, in total
	Warnings    []string
	Thresholds  []report.ThresholdResult
	ThresholdOK int // thresholds that passed
	Requests    []requestRow
	Total       requestRow
	EveryNote   string       // what a WebSocket plan's every: rows are; "" without them
	Scenarios   []requestRow // a plan's scenarios, then its groups
	Groups      []requestRow
	Checks      []checkRow
	Phases      []phaseRow // where the time went (--phases), by request name
	PhaseNote   string
	HasDropped  bool // the dropped-starts chart is drawn
	HasTimeline bool
	Resources   *resourcesView
	Profiles    []profileView
	Scaling     []scalingRow // scale-outs of watched Kubernetes workloads
	Findings    []findingView
}

// fact is one label and value of the run summary; Bad marks a value the
// reader should look at (errors, drops).
type fact struct {
	Label, Value string
	Bad          bool
	Wide         bool // a long value: a double-width tile among the key numbers
}

type requestRow struct {
	Name                    string
	Requests, RPS           string
	P50, P90, P95, P99, Max string
	ErrorPct                string
	Failed                  bool
	Retried                 string // requests that were retries of a failed attempt
	Status                  string
	// Statuses are Status one by one when some status is labelled for its
	// protocol ("503 Unavailable (gRPC 14)"): the cell shows one a line.
	Statuses     []string
	Checks       string // "passed / run"; "" without checks
	ChecksFailed bool
	HasChecks    bool
}

// phaseRow is one request name's phases: responses broken down, those on
// a new connection, and each phase's "p50 / p99" ("–": not measured).
type phaseRow struct {
	Name, Timed, New string
	Cells            []string
}

// phaseRows are the names that have a phase breakdown, and how to read it.
func phaseRows(s *report.Summary) ([]phaseRow, string) {
	var rows []phaseRow
	for _, n := range s.ByName {
		if n.Phases == nil {
			continue
		}
		r := phaseRow{Name: n.Name, Timed: report.FormatInt(n.Phases.Timed), New: report.FormatInt(n.Phases.NewConnections)}
		for _, ph := range n.Phases.Stats() {
			r.Cells = append(r.Cells, report.PhaseCell(ph.Stat))
		}
		rows = append(rows, r)
	}
	if rows == nil {
		return nil, ""
	}
	return rows, s.PhaseNote()
}

type checkRow struct {
	Name          string
	Passes, Fails string
	PassPct       string
	Failed        bool
}

type resourcesView struct {
	Groups   []resourceGroup
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
	p := &page{Interrupted: s.Interrupted, Warnings: s.Warnings, Thresholds: s.Thresholds, Findings: findingViews(s.Findings)}
	for _, e := range s.Scaling {
		r := scalingRow{
			Workload: e.Workload, From: report.FormatInt(int64(e.FromReplicas)), To: report.FormatInt(int64(e.ToReplicas)),
			LoadStep: report.FormatSeconds(e.LoadStepS), ScaleOut: report.FormatSeconds(e.ScaleOutS), Ready: "not ready by the end", TimeToScale: "–",
			P99Max: report.FormatMS(e.P99DuringMS), P99Mean: report.FormatMS(e.P99MeanDuringMS),
		}
		if e.ReadyS != nil {
			r.Ready = report.FormatSeconds(*e.ReadyS)
		}
		if e.TimeToScaleS != nil {
			r.TimeToScale = report.FormatSeconds(*e.TimeToScaleS)
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

	p.Verdict = verdictOf(s)
	p.Key = keyFacts(s)
	p.Run = runFacts(s)
	p.Totals = append(totalFacts(s), wsFacts(s)...)
	for _, t := range s.Thresholds {
		if t.Pass {
			p.ThresholdOK++
		}
	}
	p.Requests, p.Total = requestRows(s)
	p.EveryNote = strings.Join(s.EveryNotes(), "; ")
	p.Phases, p.PhaseNote = phaseRows(s)
	p.Scenarios, p.Groups = scopeRows(s.Scenarios, "scenario "), scopeRows(s.Groups, "group ")
	for _, c := range s.Checks {
		p.Checks = append(p.Checks, checkRow{
			Name:    c.Name,
			Passes:  report.FormatInt(c.Passes),
			Fails:   report.FormatInt(c.Fails),
			PassPct: report.FormatPercent(float64(c.Passes), float64(c.Passes+c.Fails), 2),
			Failed:  c.Fails > 0,
		})
	}
	p.HasTimeline = len(s.Timeline) > 0
	p.HasDropped = s.Model == report.ModelOpen || s.Dropped > 0
	if s.Resources != nil {
		keep := map[string]bool{}
		for _, f := range s.Findings {
			for _, e := range f.Evidence {
				keep[e.Series] = true
			}
		}
		p.Resources = newResources(s.Resources, keep)
	}
	for _, pr := range s.Profiles {
		p.Profiles = append(p.Profiles, newProfile(pr))
	}
	return p
}

// verdict is the page's first answer: did the run pass. Class is pass,
// fail or none (no thresholds to pass), and colours it.
type verdict struct {
	Class, Text string
	Notes       []string // what else the reader must know first: an early end, lost workers
}

func verdictOf(s *report.Summary) verdict {
	var v verdict
	failed := 0
	for _, t := range s.Thresholds {
		if !t.Pass {
			failed++
		}
	}
	switch all := s.AllFailed(); {
	case all != "":
		v = verdict{Class: "fail", Text: "Failed: " + all}
	case len(s.Thresholds) == 0:
		v = verdict{Class: "none", Text: "No thresholds: nothing to pass or fail"}
	case failed == 0:
		v = verdict{Class: "pass", Text: "Passed: " + countText(len(s.Thresholds), "threshold", "thresholds") + " met"}
	default:
		v = verdict{Class: "fail", Text: "Failed: " + report.FormatInt(int64(failed)) + " of " + countText(len(s.Thresholds), "threshold", "thresholds") + " not met"}
	}
	if s.Interrupted || report.EarlyEnd(s.EndReason) {
		if end := report.EndText(s.EndReason, s.EndDetail, secondsDur(s.DurationS), secondsDur(s.PlannedDurationS)); end != "" {
			v.Notes = append(v.Notes, "The run ended early: "+end+".")
		} else {
			v.Notes = append(v.Notes, "The run was interrupted.")
		}
	}
	if s.Degraded {
		v.Notes = append(v.Notes, "A worker of this distributed run was lost: the numbers miss its part.")
	}
	return v
}

func countText(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return report.FormatInt(int64(n)) + " " + many
}

// keyFacts are the few numbers next to the verdict: how much, how fast,
// how many failed.
func keyFacts(s *report.Summary) []fact {
	f := []fact{
		{Label: "requests", Value: report.FormatInt(s.Requests)},
		{Label: "requests/s", Value: report.FormatRate(s.RPS)},
		{Label: "failed", Value: report.FormatPercent(float64(s.Failed), float64(s.Requests), 2), Bad: s.Failed > 0},
	}
	if s.Requests > 0 {
		l := s.Latency
		f = append(f, fact{Label: "latency p50 / p95 / p99", Value: report.FormatMS(l.P50MS) + " / " + report.FormatMS(l.P95MS) + " / " + report.FormatMS(l.P99MS), Wide: true})
	}
	if s.Model == report.ModelOpen || s.Dropped > 0 {
		f = append(f, fact{Label: "dropped starts", Value: report.FormatInt(s.Dropped), Bad: s.Dropped > 0})
	}
	f = append(f, fact{Label: "duration", Value: report.FormatSeconds(s.DurationS)})
	return f
}

func runFacts(s *report.Summary) []fact {
	var f []fact
	add := func(label, value string) {
		if value != "" {
			f = append(f, fact{Label: label, Value: value})
		}
	}
	add("plan", s.Name)
	if len(s.Targets) > 1 {
		add("targets", strings.Join(s.Targets, ", "))
	} else {
		add("target", strings.TrimSpace(s.Method+" "+s.Target))
	}
	add("protocol", s.ProtocolNote())
	if !s.Started.IsZero() {
		add("started", s.Started.Format("2006-01-02 15:04:05 MST"))
	}
	dur := report.FormatSeconds(s.DurationS)
	if s.PlannedDurationS > 0 && s.PlannedDurationS != s.DurationS {
		dur += " of " + report.FormatSeconds(s.PlannedDurationS) + " planned"
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
	clients := report.FormatInt(int64(s.Clients))
	if s.Model == report.ModelOpen {
		clients += " at most in flight"
	}
	if s.MaxClients > 0 {
		clients += " (cap " + report.FormatInt(int64(s.MaxClients)) + ")"
	}
	add("clients", clients)
	if s.RequestedStartRate != nil {
		r := report.FormatRate(*s.RequestedStartRate) + " starts/s"
		if s.AchievedStartRatio != nil {
			r += " (achieved " + report.FormatFixed(100**s.AchievedStartRatio, 1) + "%)"
		}
		add("requested rate", r)
	}
	if s.RequestedRPS != nil {
		r := report.FormatRate(*s.RequestedRPS) + " req/s"
		if s.AchievedRPSRatio != nil {
			r += " (achieved " + report.FormatFixed(100**s.AchievedRPSRatio, 1) + "%)"
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
		f = append(f, fact{Label: "starts", Value: report.FormatInt(*s.Starts) + " of " + report.FormatInt(*s.StartsDue) + " due"})
	}
	f = append(f,
		fact{Label: "requests", Value: report.FormatInt(s.Requests)},
		fact{Label: "retried", Value: report.FormatInt(s.Retried)},
		fact{Label: "throughput", Value: report.FormatRate(s.RPS) + " req/s"},
		fact{Label: "failed", Value: failedText(s), Bad: s.Failed > 0},
	)
	if s.Model == report.ModelOpen || s.Dropped > 0 {
		f = append(f, fact{Label: "dropped starts", Value: report.FormatInt(s.Dropped), Bad: s.Dropped > 0})
	}
	if w := s.Warmup; w != nil {
		v := report.FormatInt(int64(w.Opened)) + " of " + report.FormatInt(int64(w.Wanted)) + " before the start, in " + report.FormatMS(w.DurationMS)
		if w.Failed > 0 {
			v += "; " + report.FormatInt(int64(w.Failed)) + " failed: " + w.Error
		}
		f = append(f, fact{Label: "pre-connected", Value: v, Bad: w.Failed > 0})
		if s.Connects != nil {
			f = append(f, fact{Label: "connects during the run", Value: report.FormatInt(*s.Connects)})
		}
	}
	if s.Requests > 0 {
		l := s.Latency
		f = append(f,
			fact{Label: "latency p50 / p95 / p99", Value: report.FormatMS(l.P50MS) + " / " + report.FormatMS(l.P95MS) + " / " + report.FormatMS(l.P99MS)},
			fact{Label: "latency max", Value: report.FormatMS(l.MaxMS)},
		)
		if s.LatencyFrom == report.FromIntended {
			st := s.ServiceTime
			f = append(f, fact{Label: "service time p50 / p95 / p99", Value: report.FormatMS(st.P50MS) + " / " + report.FormatMS(st.P95MS) + " / " + report.FormatMS(st.P99MS)})
		}
	}
	f = append(f,
		fact{Label: "data in / out", Value: report.FormatBytes(float64(s.BytesIn)) + " / " + report.FormatBytes(float64(s.BytesOut)) + " (" + report.FormatBytes(s.ThroughputBPS) + "/s in)"},
		fact{Label: "status", Value: statusText(s.StatusCounts())},
		fact{Label: "transport errors", Value: errorsText(s.Errors), Bad: s.Errors.Total() > 0},
	)
	return f
}

// failedText is the failed count, its share and what the failures were.
func failedText(s *report.Summary) string {
	v := report.FormatInt(s.Failed) + " (" + report.FormatPercent(float64(s.Failed), float64(s.Requests), 2) + ")"
	if s.Failed > 0 {
		v += ": " + s.FailedParts()
	}
	return v
}

// requestRows are the per-name rows and the total. A check belongs to the
// request whose name prefixes it ("list products: status"), as plans name them.
func requestRows(s *report.Summary) ([]requestRow, requestRow) {
	row := func(name string, req, failed, retried int64, rps float64, l report.Latency, status []report.StatusCount) requestRow {
		r := requestRow{
			Name: name, Requests: report.FormatInt(req), RPS: report.FormatRate(rps),
			P50: report.FormatMS(l.P50MS), P90: report.FormatMS(l.P90MS), P95: report.FormatMS(l.P95MS), P99: report.FormatMS(l.P99MS), Max: report.FormatMS(l.MaxMS),
			ErrorPct: report.FormatPercent(float64(failed), float64(req), 2), Failed: failed > 0, Retried: report.FormatInt(retried),
			Status: statusText(status), Statuses: statusLines(status),
		}
		if req == 0 { // nothing measured: neither instant nor healthy
			r.P50, r.P90, r.P95, r.P99, r.Max, r.ErrorPct = "–", "–", "–", "–", "–", "–"
		}
		return r
	}
	rows := make([]requestRow, 0, len(s.ByName))
	for _, n := range s.ByName {
		r := row(n.Name, n.Requests, n.Failed, n.Retried, n.RPS, n.Latency, n.StatusCounts())
		var passes, fails, matching int64
		for _, c := range s.Checks {
			if strings.HasPrefix(c.Name, n.Name+": ") {
				passes, fails, matching = passes+c.Passes, fails+c.Fails, matching+1
			}
		}
		if matching > 0 {
			r.HasChecks, r.ChecksFailed = true, fails > 0
			r.Checks = report.FormatInt(passes) + " / " + report.FormatInt(passes+fails)
		}
		rows = append(rows, r)
	}
	total := row("all requests", s.Requests, s.Failed, s.Retried, s.RPS, s.Latency, s.StatusCounts())
	var passes, fails int64
	for _, c := range s.Checks {
		passes += c.Passes
		fails += c.Fails
	}
	if len(s.Checks) > 0 {
		total.HasChecks, total.ChecksFailed = true, fails > 0
		total.Checks = report.FormatInt(passes) + " / " + report.FormatInt(passes+fails)
	}
	return rows, total
}

// scopeRows are the rows of scenarios or groups (checks are per request, so
// they are not repeated here).
func scopeRows(ns []report.NameSummary, kind string) []requestRow {
	var rows []requestRow
	for _, n := range ns {
		r := requestRow{
			Name: kind + n.Name, Requests: report.FormatInt(n.Requests), RPS: report.FormatRate(n.RPS),
			P50: report.FormatMS(n.Latency.P50MS), P90: report.FormatMS(n.Latency.P90MS), P95: report.FormatMS(n.Latency.P95MS), P99: report.FormatMS(n.Latency.P99MS), Max: report.FormatMS(n.Latency.MaxMS),
			ErrorPct: report.FormatPercent(float64(n.Failed), float64(n.Requests), 2), Failed: n.Failed > 0, Retried: report.FormatInt(n.Retried),
			Status: statusText(n.StatusCounts()), Statuses: statusLines(n.StatusCounts()),
		}
		if n.Requests == 0 {
			r.P50, r.P90, r.P95, r.P99, r.Max, r.ErrorPct = "–", "–", "–", "–", "–", "–"
		}
		rows = append(rows, r)
	}
	return rows
}

// newResources groups r's series for the page; those in keep are drawn
// whatever their values (see groupResources).
func newResources(r *report.Resources, keep map[string]bool) *resourcesView {
	v := &resourcesView{Groups: groupResources(r, keep)}
	for _, st := range r.Series {
		v.Series = append(v.Series, seriesRow{
			Name:    st.Name,
			Peak:    report.FormatResource(st.Name, st.Peak),
			Mean:    report.FormatResource(st.Name, st.Mean),
			Samples: report.FormatInt(int64(st.Samples)),
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
			Source: src, Count: report.FormatInt(int64(a.n)),
			First: report.FormatSeconds(a.first), Last: report.FormatSeconds(a.last), Error: a.err,
		})
	}
	return v
}

func newProfile(p report.ProfileSummary) profileView {
	v := profileView{Kind: p.Kind, URL: p.URL, File: p.File, At: report.FormatSeconds(p.StartedS), Error: p.Error}
	top := slices.Clone(p.Top)
	slices.SortStableFunc(top, func(a, b report.ProfileFunc) int { return cmp.Compare(b.Flat, a.Flat) })
	for _, f := range top {
		v.Top = append(v.Top, profileFuncRow{
			Name:    f.Name,
			Flat:    fmtProfile(p.Kind, f.Flat),
			FlatPct: report.FormatFixed(f.FlatPct, 1) + "%",
			Cum:     fmtProfile(p.Kind, f.Cum),
			CumPct:  report.FormatFixed(f.CumPct, 1) + "%",
		})
	}
	return v
}

// fmtProfile renders a profile value in its kind's unit: seconds of CPU,
// bytes of heap, or a count (goroutines, and kinds this version does not know).
func fmtProfile(kind string, v float64) string {
	switch {
	case kind == "cpu":
		return report.FormatMS(v * 1000)
	case kind == "heap" || kind == "allocs":
		return report.FormatBytes(v)
	default:
		return report.FormatFixed(v, 0)
	}
}

// statusText lists statuses, each labelled for its protocol (see
// report.StatusCounts): "200 × 1,234, 503 × 2".
func statusText(counts []report.StatusCount) string {
	if len(counts) == 0 {
		return "–"
	}
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = c.Label + " × " + report.FormatInt(c.N)
	}
	return strings.Join(parts, ", ")
}

// statusLines are counts one by one ("503 Unavailable (gRPC 14) × 2"),
// for a table cell, when some status is labelled for a protocol other
// than HTTP; nil otherwise (the cell is statusText).
func statusLines(counts []report.StatusCount) []string {
	var lines []string
	labelled := false
	for i, c := range counts {
		labelled = labelled || c.Label != c.Key
		sep := ","
		if i == len(counts)-1 {
			sep = ""
		}
		// A status may wrap before its "(gRPC 14)", not inside it nor
		// before its count.
		label := strings.Replace(c.Label, "(gRPC ", "(gRPC\u00a0", 1)
		lines = append(lines, label+"\u00a0×\u00a0"+report.FormatInt(c.N)+sep)
	}
	if !labelled {
		return nil
	}
	return lines
}

func errorsText(c report.ErrorCounts) string {
	var parts []string
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		if c[k] > 0 {
			parts = append(parts, k.String()+" × "+report.FormatInt(c[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// secondsDur converts float seconds to a duration, to the millisecond.
func secondsDur(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

// scalingRow is one scale-out: from the load step to the new replicas ready.
type scalingRow struct {
	Workload, From, To, LoadStep, ScaleOut, Ready, TimeToScale, P99Max, P99Mean string
}
