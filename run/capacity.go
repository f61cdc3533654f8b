package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fuka-load/fuka/capacity"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/findings"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/monitor"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/threshold"
)

// A capacity search is a sequence of runs: each step is a Run of the base
// load at the step's rate, with the same watchers, history and dashboard
// as any run, locally or on held workers. A judge of the step keeps what
// it measured after its warm-up; the search (package capacity) decides.

// Capacity is a capacity search's runs.
type Capacity struct {
	Search capacity.Config
	Base   engine.Config // the load without its rate (the open model)
	// Meta says what every step's report and history entry says: name,
	// target, method.
	Meta report.Meta
	// Values gives the SLO its numbers from a step's summary and run (nil:
	// threshold.SummaryValues).
	Values func(sum *report.Summary, run *metrics.Run) threshold.Values
	WarmUp float64 // the part of each step left out of its measurement, 0 to 1
	// Workers, if set, send the load; Job is each step's job for them.
	Workers *Workers
	Job     func(r load.Rate) *fukapb.Job
	Watch   Watch
	// Out is where each step's results go: its history entry and the
	// dashboard. A step writes no report, no summary and no results file:
	// the search writes its own.
	Out    Outputs
	Stderr io.Writer
	CPUs   int // CPUs the generator may use; 0: GOMAXPROCS

	base *fukapb.Job // a URL's job
	plan *Plan       // or the plan, for the workers' job
	opts Options
}

// Run searches: it joins the workers (if any), runs the steps, and lets
// the workers go. The result is nil only when the search could not start
// (err says why); an interrupted search's result says so.
func (c *Capacity) Run(ctx context.Context) (*CapacityDoc, error) {
	if c.Workers != nil {
		if err := c.Workers.Join(ctx); err != nil {
			return nil, err
		}
		defer c.Workers.Close()
	}
	started := time.Now()
	rep, err := capacity.Search(ctx, c.Search, c.measure)
	if rep == nil {
		return nil, err // a bad configuration, found before any load
	}
	return &CapacityDoc{
		Version: c.Meta.Version, Name: c.Meta.Name, Target: c.Meta.Target, Started: started.Round(time.Millisecond),
		DurationS: Round3(time.Since(started).Seconds()), Interrupted: err != nil && ctx.Err() != nil, Capacity: rep,
	}, err
}

func (c *Capacity) cpus() int {
	if c.CPUs > 0 {
		return c.CPUs
	}
	return runtime.GOMAXPROCS(0)
}

// StepRate is one step's load: rate for hold, after lead seconds of none.
//
// The engine measures in whole seconds from the run's start, and a step
// leaves its warm-up out of the measurement. A warm-up that is not a whole
// number of seconds is padded in front with an idle lead, so that it ends on
// a second boundary and the measurement starts exactly there:
//
//	|← lead →|←─ warm-up ─→|←──────── measured ────────→|
//	0        idle ends      ⌈warm-up⌉                    lead+hold (+ in-flight)
func StepRate(rate float64, lead, hold time.Duration) (load.Rate, error) {
	if lead <= 0 {
		return load.NewRate(rate, []load.Stage{{Target: rate, Over: hold}})
	}
	return load.NewRate(0, []load.Stage{{Target: 0, Over: lead}, {Target: rate, Over: 0}, {Target: rate, Over: hold}})
}

// measure runs one step and reduces what it measured after the warm-up.
func (c *Capacity) measure(ctx context.Context, rate float64, hold time.Duration) (capacity.Result, error) {
	warm := time.Duration(float64(hold) * c.WarmUp)
	skip := warm.Truncate(time.Second)
	if skip < warm {
		skip += time.Second
	}
	r, err := StepRate(rate, skip-warm, hold)
	if err != nil {
		return capacity.Result{}, fmt.Errorf("rate %v: %w", rate, err)
	}
	spec := c.stepSpec(r)
	j := &stepJudge{after: skip}
	spec.Judges = []Judge{j}
	o, err := Run(ctx, spec)
	switch {
	case err != nil:
		return capacity.Result{}, err
	case o.Code == CodeInterrupted || o.Result.Interrupted:
		if err := ctx.Err(); err != nil {
			return capacity.Result{}, err
		}
		return capacity.Result{}, context.Canceled
	case o.Result.DataExhausted:
		return capacity.Result{}, errors.New("the plan's unique data ran out during the step")
	case o.Code == CodeDegraded:
		return capacity.Result{}, errors.New("a worker was lost during the step: its measurement misses that worker's share")
	case j.err != nil:
		return capacity.Result{}, j.err
	}
	return c.reduce(j, o, rate, hold-warm, skip), nil
}

// stepSpec is the run of one step at rate r.
func (c *Capacity) stepSpec(r load.Rate) Spec {
	cfg := c.Base
	l := cfg.Load.(engine.Open) // the base's rate is replaced
	l.Rate = r
	cfg.Load = l
	meta := c.Meta
	meta.Model, meta.LatencyFrom = report.ModelOpen, report.FromIntended
	meta.Planned, meta.MaxClients = r.Duration(), l.MaxClients
	meta.Rate = capacity.FormatRate(r.At(r.Duration())) + "/s"
	// The history lists each step under a name that says what it was.
	meta.Name = strings.TrimSpace(meta.Name + " capacity step " + meta.Rate)
	out := Outputs{Format: "none", Quiet: true, NoReport: true,
		History: c.Out.History, NoHistory: c.Out.NoHistory, Dashboard: c.Out.Dashboard, DashToken: c.Out.DashToken}
	var src Source
	if c.Workers != nil {
		src = c.Workers.Source(c.Job(r))
	}
	return Spec{Config: cfg, Meta: meta, Source: src, Watch: c.Watch, Out: out, Stderr: c.Stderr, CPUs: c.cpus()}
}

// stepJudge keeps a step's intervals after its warm-up, merged exactly
// (HDR histograms): interval k covers (k−1 s, k s], and those that end at
// or before after are the warm-up. The last, partial interval of the load
// is closed without a Tick; Judge takes it from the run.
type stepJudge struct {
	after   time.Duration
	ticks   int
	byName  []*metrics.Stats
	total   *metrics.Stats
	checks  [][2]int64
	dropped int64
	sum     *report.Summary
	err     error
}

func (j *stepJudge) Tick(elapsed time.Duration, p metrics.Point, run *metrics.Run) string {
	j.ticks++
	j.add(elapsed, p, run)
	return ""
}

func (j *stepJudge) add(at time.Duration, p metrics.Point, run *metrics.Run) {
	if at <= j.after {
		return
	}
	if j.total == nil {
		j.total = metrics.NewStats()
	}
	j.dropped += p.Dropped
	for i, st := range run.Interval {
		for len(j.byName) <= i {
			j.byName = append(j.byName, metrics.NewStats())
		}
		j.byName[i].Merge(st)
		j.total.Merge(st)
	}
	for i, ch := range run.IntervalChecks {
		for len(j.checks) <= i {
			j.checks = append(j.checks, [2]int64{})
		}
		j.checks[i][0] += ch[0]
		j.checks[i][1] += ch[1]
	}
}

func (j *stepJudge) Judge(sum *report.Summary, run *metrics.Run) bool {
	j.sum = sum
	switch extra := len(run.Timeline) - j.ticks; extra {
	case 0:
	case 1: // the last, partial interval: run.Interval is still its
		p := run.Timeline[len(run.Timeline)-1]
		j.add(p.At, p, run)
	default:
		j.err = fmt.Errorf("the step closed %d intervals without a tick: its measurement would miss them", extra)
	}
	return false
}

// reduce turns what the judge kept into the step's result: latencies,
// errors and throughput over the measured span, the SLO's values, and the
// target's and the generator's CPU over the same window.
func (c *Capacity) reduce(j *stepJudge, o *Outcome, rate float64, measured, skip time.Duration) capacity.Result {
	res := o.Result
	run := &metrics.Run{Names: res.Run.Names, ByName: j.byName, Total: j.total, Dropped: j.dropped,
		CheckNames: res.Run.CheckNames, Checks: j.checks}
	if run.Total == nil {
		run.Total = metrics.NewStats()
	}
	for len(run.ByName) < len(run.Names) {
		run.ByName = append(run.ByName, metrics.NewStats())
	}
	for len(run.Checks) < len(run.CheckNames) {
		run.Checks = append(run.Checks, [2]int64{})
	}
	span := max(res.Elapsed-skip, 0)
	sum := report.NewSummary(report.Meta{Model: report.ModelOpen, LatencyFrom: report.FromIntended, Elapsed: span}, run)
	values := c.Values
	if values == nil {
		values = func(sum *report.Summary, _ *metrics.Run) threshold.Values { return threshold.SummaryValues(sum, nil) }
	}
	t := run.Total
	out := capacity.Result{
		P50MS: sum.Latency.P50MS, P99MS: sum.Latency.P99MS, Requests: t.Requests,
		RPS: sum.RPS, Dropped: run.Dropped, Values: values(sum, run),
		Refused: t.Requests > 0 && t.Errors[metrics.ErrRefused] == t.Requests,
	}
	if t.Requests > 0 {
		out.ErrorRate = float64(t.Failed) / float64(t.Requests)
	}
	if due := rate * measured.Seconds(); due > 0 {
		out.DroppedRatio = min(1, float64(run.Dropped)/due)
	}
	// fuka's own CPU says whether the generator was the limit: only when
	// it generated the load (on workers, their CPU is theirs).
	if c.Workers == nil {
		out.GenCPUPct = GenCPU(o.Watched.SelfPoints(), skip, res.Elapsed, c.cpus())
	}
	if o.Summary != nil {
		out.Findings = o.Summary.Findings // the step's run computed them
		// Should the step fail, the whole measured step is in question.
		var gen findings.Generator
		if c.Workers == nil {
			gen = o.Watched.Generator(c.cpus())
		}
		out.Limits = findings.AnalyzeFrom(o.Summary, gen, skip.Seconds(), "the step at "+capacity.FormatRate(rate)+"/s")
	}
	if v, series, ok := windowMean(o.Watched.Points(), skip, res.Elapsed, TargetCPU); ok {
		out.TargetCPUPct, out.TargetCPUSeries = new(round1(v)), series
	}
	return out
}

// GenCPU is fuka's own CPU over the window (from, to] in percent of the
// cpus it may use (100 = all busy); nil when not sampled there.
func GenCPU(self []monitor.Point, from, to time.Duration, cpus int) *float64 {
	v, _, ok := windowMean(self, from, to, selfCPU)
	if !ok || cpus <= 0 {
		return nil
	}
	return new(round1(v / float64(cpus)))
}

// windowMean averages, over the monitor points sampled in (from, to], the
// series pick chooses from each point.
func windowMean(pts []monitor.Point, from, to time.Duration, pick func(map[string]float64) (float64, string, bool)) (float64, string, bool) {
	var sum float64
	var n int
	var series string
	for _, p := range pts {
		if p.At <= from || p.At > to {
			continue
		}
		if v, name, ok := pick(p.Values); ok {
			sum += v
			n++
			series = name
		}
	}
	if n == 0 {
		return 0, "", false
	}
	return sum / float64(n), series, true
}

// selfCPU is fuka's own CPU from its process series (100 = one core).
func selfCPU(vals map[string]float64) (float64, string, bool) {
	for k, v := range vals {
		if strings.HasSuffix(k, ".cpu_pct") {
			return v, k, true
		}
	}
	return 0, "", false
}

// TargetCPU picks the target's CPU from monitored series: a watched
// process's cpu_pct (100 = one core) first, else a host's busy share
// (100 − idle − iowait, as mpstat and the per-CPU series count it: a CPU
// waiting for I/O is idle, not saturated), an agent's host before the
// local one.
func TargetCPU(vals map[string]float64) (float64, string, bool) {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "process.") && strings.HasSuffix(k, ".cpu_pct") {
			return vals[k], k, true
		}
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "agent.") && strings.HasSuffix(k, ".cpu.idle_pct") {
			prefix := strings.TrimSuffix(k, "idle_pct")
			return 100 - vals[k] - vals[prefix+"iowait_pct"], prefix + "busy_pct", true
		}
	}
	if v, ok := vals["cpu.idle_pct"]; ok {
		return 100 - v - vals["cpu.iowait_pct"], "cpu.busy_pct", true
	}
	return 0, "", false
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// StepJob is the job of one step at rate r for the workers: base (an
// attack or a plan job) with its load made the open model at r, at most
// maxClients clients in flight.
func StepJob(base *fukapb.Job, r load.Rate, maxClients int, resolution time.Duration) *fukapb.Job {
	switch w := base.GetWork().(type) {
	case *fukapb.Job_Attack:
		a := w.Attack
		return &fukapb.Job{Work: &fukapb.Job_Attack{Attack: &fukapb.AttackJob{
			Url: a.GetUrl(), Method: a.GetMethod(), Headers: a.GetHeaders(), Body: a.GetBody(), TimeoutNanos: a.GetTimeoutNanos(),
			Insecure: a.GetInsecure(), Http2: a.GetHttp2(), Name: a.GetName(), UserAgent: a.GetUserAgent(),
			Load: &fukapb.Load{Rate: RateMsg(r), MaxClients: int32(maxClients), ResolutionNanos: int64(resolution)},
		}}}
	case *fukapb.Job_Plan:
		p := w.Plan
		n := int32(maxClients)
		return &fukapb.Job{Work: &fukapb.Job_Plan{Plan: &fukapb.PlanJob{
			FileName: p.GetFileName(), Source: p.GetSource(), Files: p.GetFiles(), Env: p.GetEnv(),
			Insecure: p.GetInsecure(), Http2: p.GetHttp2(),
			Overrides: &fukapb.Overrides{BaseUrl: p.GetOverrides().GetBaseUrl(), Rate: RateMsg(r), MaxClients: &n},
		}}}
	}
	return base
}

// CapacityDoc is a search's JSON result: the run around its report.
type CapacityDoc struct {
	Version     string           `json:"fuka_version"`
	Name        string           `json:"name"`
	Target      string           `json:"target"`
	Started     time.Time        `json:"started"`
	DurationS   float64          `json:"duration_s"`
	Interrupted bool             `json:"interrupted"`
	Capacity    *capacity.Report `json:"capacity"`
}

// WriteCapacity writes a search's results where o says: the HTML report
// and capacity.json in a results folder (or the report to o.Report, or
// nothing with o.NoReport), o.JSONOut, and the result on stdout as text or
// JSON, and the CI files (--junit, --summary-md, $GITHUB_STEP_SUMMARY).
// jsonErr is a --json-out, --junit or --summary-md that could not be
// written (the result was printed); err a result that could not be printed.
func WriteCapacity(doc CapacityDoc, o Outputs, stdout, stderr io.Writer) (jsonErr, err error) {
	var reportPath string
	if !o.NoReport {
		// Like a run's report: a failure is a warning, the result is printed.
		if p, err := writeCapacityResults(o.Report, doc); err != nil {
			fmt.Fprintf(stderr, "fuka: warning: %v\n", err)
		} else {
			reportPath = p
		}
	}
	if o.JSONOut != "" {
		if err := WriteFileAtomic(o.JSONOut, doc.writeJSON); err != nil {
			jsonErr = fmt.Errorf("--json-out: %w", err)
		}
	}
	jsonErr = errors.Join(jsonErr, writeCapacityCI(doc, o, stderr))
	if o.Format == "json" {
		if err := doc.writeJSON(stdout); err != nil {
			return jsonErr, err
		}
		if reportPath != "" && !o.Quiet {
			fmt.Fprintf(stderr, "capacity: report %s\n", reportPath)
		}
		return jsonErr, nil
	}
	fmt.Fprintf(stdout, "capacity of %s\n\n", doc.Target)
	if err := doc.Capacity.WriteText(stdout); err != nil {
		return jsonErr, err
	}
	if reportPath != "" {
		fmt.Fprintf(stdout, "  report     %s\n", reportPath)
	}
	return jsonErr, nil
}

// writeCapacityResults writes the HTML report (and, in the results folder,
// the JSON result next to it) and returns the report's path.
func writeCapacityResults(reportOut string, doc CapacityDoc) (string, error) {
	path := reportOut
	if path == "" {
		name := "capacity"
		if doc.Name != "" {
			name = doc.Name + "-capacity"
		}
		dir, err := ResultsDir("", name, doc.Started)
		if err != nil {
			return "", err
		}
		path = filepath.Join(dir, "capacity.html")
		if err := WriteFileAtomic(filepath.Join(dir, "capacity.json"), doc.writeJSON); err != nil {
			return "", err
		}
	}
	info := capacity.RunInfo{
		Name: doc.Name, Target: doc.Target, Version: doc.Version, Started: doc.Started,
		Duration: time.Duration(doc.DurationS * float64(time.Second)), Interrupted: doc.Interrupted,
	}
	if err := WriteFileAtomic(path, func(w io.Writer) error { return capacity.WriteHTMLRun(w, doc.Capacity, info) }); err != nil {
		return "", fmt.Errorf("--report: %w", err)
	}
	return path, nil
}

// writeCapacityCI writes the search's CI files: --junit and --summary-md
// (an error when they cannot be written) and the GitHub step summary
// (a warning).
func writeCapacityCI(doc CapacityDoc, o Outputs, stderr io.Writer) error {
	info := capacity.RunInfo{Name: doc.Name, Target: doc.Target, Version: doc.Version, Started: doc.Started,
		Duration: time.Duration(doc.DurationS * float64(time.Second)), Interrupted: doc.Interrupted}
	var errs []error
	if o.JUnit != "" {
		if err := WriteFileAtomic(o.JUnit, doc.Capacity.JUnit(info).Write); err != nil {
			errs = append(errs, fmt.Errorf("--junit: %w", err))
		}
	}
	if o.SummaryMD == "" && o.StepSummary == "" {
		return errors.Join(errs...)
	}
	var md bytes.Buffer
	if err := doc.Capacity.WriteMarkdown(&md, info); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if o.SummaryMD != "" {
		if err := WriteFileAtomic(o.SummaryMD, func(w io.Writer) error { _, err := w.Write(md.Bytes()); return err }); err != nil {
			errs = append(errs, fmt.Errorf("--summary-md: %w", err))
		}
	}
	if o.StepSummary != "" {
		if err := appendFile(o.StepSummary, md.Bytes()); err != nil {
			fmt.Fprintf(stderr, "fuka: warning: $GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	return errors.Join(errs...)
}

func (doc CapacityDoc) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// CapacityProgress prints the search's news on w: its settings, then each
// step as it starts and as it was judged.
func CapacityProgress(cfg *capacity.Config, w io.Writer, target string, warmUp float64) {
	slo := make([]string, len(cfg.SLO))
	for i, e := range cfg.SLO {
		slo[i] = e.String()
	}
	fmt.Fprintf(w, "capacity: %s: steps of %v (first %g%% not measured), cool-down %v, SLO %s\n",
		target, cfg.Hold, warmUp*100, cfg.Cooldown, strings.Join(slo, ", "))
	cfg.OnStep = func(i int, s capacity.Step) {
		fmt.Fprintf(w, "step %d: %s/s for %v…\n", i+1, capacity.FormatRate(s.Rate), s.Hold)
	}
	cfg.OnResult = func(i int, r capacity.StepResult) {
		verdict := "pass"
		if !r.Pass {
			verdict = "FAIL " + r.Limit + ": " + strings.Join(r.Failed, "; ")
		}
		again := ""
		if r.Retry > 0 {
			again = " (again)"
		}
		fmt.Fprintf(w, "step %d: %s/s%s  p50 %s  p99 %s  errors %.2f%%  achieved %.1f/s  %s\n",
			i+1, capacity.FormatRate(r.Rate), again, report.FormatMS(r.P50MS), report.FormatMS(r.P99MS), r.ErrorRate*100, r.RPS, verdict)
	}
}

// ParseFraction reads "5%" (or "0.05") as 0.05; it must be in [0, 1).
func ParseFraction(s string) (float64, error) {
	t := strings.TrimSpace(s)
	div := 1.0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, div = strings.TrimSpace(p), 100
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, err
	}
	v /= div
	if v != v || v < 0 || v >= 1 {
		return 0, fmt.Errorf("%v is outside [0, 1)", v)
	}
	return v, nil
}

// CapacityOptions are a search's settings as the command line gives them.
type CapacityOptions struct {
	SLO               []string
	Min, Max          float64
	Precision, WarmUp string // fractions: "5%" or 0.05
	Step, Cooldown    time.Duration
	Confirm           int
	MaxClients        int // 0: a plan's max_clients, else the default
	Resolution        time.Duration
	Request           AttackFlags // a URL's request (its load is the search's)
	BaseURL           string      // overrides a plan's base_url
}

// NewCapacity is the search of target: a URL (o.Request is its request;
// each step's rate replaces its load) or a plan file (its scenarios share
// each step's rate by weight; its thresholds are the default SLO, its
// monitors watch each step). closeRunner releases the plan's scenario
// runner. Plan errors are plan.Errors.
func NewCapacity(o CapacityOptions, target string, opts Options) (cp *Capacity, closeRunner func(), err error) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		req := o.Request // attack's own checks build the request; the rate is set per step
		req.Rate, req.Duration = "1", time.Second
		job, err := req.Job(target, true, opts.Version)
		if err != nil {
			return nil, nil, err
		}
		return newCapacity(o, job, nil, opts)
	}
	c, err := CompileFile(target, o.BaseURL)
	if err != nil {
		return nil, nil, err
	}
	return newCapacity(o, nil, c, opts)
}

func newCapacity(o CapacityOptions, job *fukapb.AttackJob, c *Plan, opts Options) (cp *Capacity, closeRunner func(), err error) {
	cp = &Capacity{Search: capacity.Config{Min: o.Min, Max: o.Max, Hold: o.Step, Cooldown: o.Cooldown, Confirm: o.Confirm}}
	if err := cp.settings(o); err != nil {
		return nil, nil, err
	}
	closeRunner = func() {}
	if job != nil {
		if len(cp.Search.SLO) == 0 {
			return nil, nil, errors.New("--slo is required with a URL, e.g. --slo 'p99 < 200ms, error_rate < 1%'")
		}
		if cp.Base, err = AttackConfig(job); err != nil {
			return nil, nil, err
		}
		if _, ok := cp.Base.Load.(engine.Open); !ok {
			return nil, nil, errors.New("a capacity search needs the open model")
		}
		req := cp.Base.Work.(engine.Request).Request
		cp.Meta = report.Meta{Target: req.URL.String(), Method: req.Method, Version: opts.Version}
		cp.base = &fukapb.Job{Work: &fukapb.Job_Attack{Attack: job}}
		return cp, closeRunner, nil
	}
	// grpc: steps' schemas, before any load (and for the workers' job).
	if err := ResolvePlanGRPC(context.Background(), c, opts); err != nil {
		return nil, nil, err
	}
	if cp.Base, closeRunner, err = CapacityConfig(c, o.MaxClients, o.Resolution, opts); err != nil {
		return nil, nil, err
	}
	if len(cp.Search.SLO) == 0 {
		cp.Search.SLO = c.Thresholds
	}
	if len(cp.Search.SLO) == 0 {
		closeRunner()
		return nil, nil, errors.New("no SLO: give --slo or thresholds in the plan")
	}
	if err := cp.Watch.FromPlan(c.Plan); err != nil {
		closeRunner()
		return nil, nil, err
	}
	cp.Values, cp.plan, cp.opts = c.Prog.Values, c, opts
	cp.Meta = report.Meta{Name: c.Plan.Name, Target: c.Plan.BaseURL.Value, Version: opts.Version}
	return cp, closeRunner, nil
}

// settings checks the search's settings.
func (c *Capacity) settings(o CapacityOptions) error {
	for _, s := range o.SLO {
		e, err := capacity.ParseSLO(s)
		if err != nil {
			return fmt.Errorf("--slo: %w", err)
		}
		c.Search.SLO = append(c.Search.SLO, e...)
	}
	precision, err := ParseFraction(o.Precision)
	if err != nil || precision <= 0 {
		return fmt.Errorf("--precision %q: want a percentage between 0 and 100, e.g. 5%%", o.Precision)
	}
	c.Search.Precision = precision
	if c.WarmUp, err = ParseFraction(o.WarmUp); err != nil {
		return fmt.Errorf("--warm-up %q: want a percentage of --step below 100, e.g. 20%%", o.WarmUp)
	}
	switch {
	case o.Step <= 0:
		return fmt.Errorf("--step %v: must be > 0", o.Step)
	case o.Cooldown < 0:
		return fmt.Errorf("--cooldown %v: must not be negative", o.Cooldown)
	case o.Confirm < 0:
		return fmt.Errorf("--confirm %d: must not be negative", o.Confirm)
	case o.Min <= 0:
		return fmt.Errorf("--min %v: must be > 0", o.Min)
	case o.Max < 0 || (o.Max > 0 && o.Max < o.Min):
		return fmt.Errorf("--max %v: want 0 (no bound) or at least --min %v", o.Max, o.Min)
	case o.MaxClients < 0:
		return fmt.Errorf("--max-clients %d: must be > 0", o.MaxClients)
	case o.Resolution < 0 || o.Resolution > time.Second:
		return fmt.Errorf("--resolution %v: want 0 to 1s", o.Resolution)
	}
	return nil
}

// Prepare sets where the results go and what watches each step, and checks
// them before any load: the format, --json-out, and every monitor source
// (a plan's profile: captures are not taken during a search; stderr says
// so unless out.Quiet, and shows the search's progress).
func (c *Capacity) Prepare(out Outputs, w Watch, stderr io.Writer, cpus int) error {
	if out.Format != "text" && out.Format != "json" {
		return fmt.Errorf("--output %q: want text or json", out.Format)
	}
	for _, f := range [...]struct{ flag, path string }{{"--json-out", out.JSONOut}, {"--junit", out.JUnit}, {"--summary-md", out.SummaryMD}} {
		if f.path == "" {
			continue
		}
		if err := CheckWritable(f.path); err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	if len(c.Watch.Profiles) > 0 && !out.Quiet {
		fmt.Fprintln(stderr, "capacity: the plan's profile: captures are not taken during a search")
	}
	w.Monitors = append(c.Watch.Monitors, w.Monitors...)
	w.Profiles, w.ProfileFlags = nil, nil
	if err := w.parseFlags(); err != nil {
		return err
	}
	// A bad source fails before any load; each step watches with its own.
	if err := w.Check(); err != nil {
		return err
	}
	c.Watch, c.Out, c.Stderr, c.CPUs = w, out, stderr, cpus
	if !out.Quiet {
		CapacityProgress(&c.Search, stderr, c.Meta.Target, c.WarmUp)
	}
	return nil
}

// OnWorkers makes the workers of s send every step.
func (c *Capacity) OnWorkers(s ClusterSpec) error {
	w, err := NewWorkers(s, c.Stderr)
	if err != nil {
		return err
	}
	base := c.base
	if c.plan != nil {
		pj, err := NewPlanJob(c.plan, LoadFlags{BaseURL: c.Meta.Target}, c.opts)
		if err != nil {
			return err
		}
		base = &fukapb.Job{Work: &fukapb.Job_Plan{Plan: pj}}
	}
	c.Workers = w
	l := c.Base.Load.(engine.Open)
	c.Job = func(r load.Rate) *fukapb.Job { return StepJob(base, r, l.MaxClients, l.Resolution) }
	return nil
}

// Timeout is the longest request timeout of the search's load: how long
// stopped workers may take to finish the requests in flight.
func (c *Capacity) Timeout() time.Duration {
	if c.plan != nil {
		return c.plan.Timeout()
	}
	if w, ok := c.Base.Work.(engine.Request); ok {
		return w.Timeout
	}
	return 10 * time.Second
}
