package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/capacity"
	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/monitor"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
	"github.com/fuka-load/fuka/threshold"
)

// capacityFlags are the options of `fuka capacity`.
type capacityFlags struct {
	req       attackFlags // quick mode's request options, as attack has them
	slo       []string
	min, max  float64
	precision string
	step      time.Duration
	warmUp    string
	cooldown  time.Duration
	confirm   int
	baseURL   string
	format    string
	jsonOut   string
	quiet     bool
	reportOut string // --report FILE; "" = capacity.html in the results folder
	noReport  bool

	monitorFlags []string
	agentToken   string
}

func newCapacity(stdio Stdio) *cobra.Command {
	var f capacityFlags
	cmd := &cobra.Command{
		Use:   "capacity PLAN.yaml|URL --slo 'p99 < 200ms, error_rate < 1%'",
		Short: "Find the highest arrival rate the target sustains within an SLO",
		Long: `capacity searches for the highest open-model arrival rate that meets the
SLO (docs/capacity.md). It starts at --min and doubles the rate until a step
fails the SLO (or --max passes), then halves the interval between the last
pass and the first fail until the fail is within --precision of the pass.

Each step holds a constant rate for --step; its first --warm-up is not
measured, and the target rests --cooldown between steps. A step passes when
every SLO term holds, at most 1% of its starts were dropped and fuka itself
stayed below 90% CPU. A step that failed on latency alone while keeping up
with the rate may have met a stall of the host: it is measured again
(--confirm times) and passes if any measurement does. More than half of the
requests failing, or every connection refused, stops the search at once.

With a plan file, the plan's scenarios share each step's rate by weight and
--slo defaults to the plan's thresholds; with a URL, each start is one
request (attack's request flags apply).

The answer and each step go to stdout; an HTML report with charts and the
table of steps goes to capacity.html in a results folder (--report FILE,
--no-report), with the JSON result next to it.

Exit codes: 0 an answer was found, 1 even --min failed the SLO, 2 usage or
input error, 130 interrupted (what was found is still printed).`,
		Example: `  fuka capacity http://127.0.0.1:8080/ --slo 'p99 < 200ms, error_rate < 1%'
  fuka capacity plan.yaml --slo 'p99 < 300ms' --min 50 --max 5000 --json-out capacity.json
  fuka capacity http://127.0.0.1:8080/api --slo 'p95 < 100ms' --step 1m --precision 2% --monitor process=api`,
		Args: exactArgs(1, "capacity takes one plan file or URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			readingInput.Store(true)
			return runCapacity(cmd.Context(), stdio, &f, cmd, args[0])
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringArrayVar(&f.slo, "slo", nil, "what each step must meet, e.g. 'p99 < 200ms, error_rate < 1%' (repeatable; default: a plan's thresholds)")
	fl.Float64Var(&f.min, "min", 10, "first rate tried (starts/s)")
	fl.Float64Var(&f.max, "max", 0, "highest rate tried (starts/s); 0: no bound")
	fl.StringVar(&f.precision, "precision", "5%", "stop when the first fail is within this of the last pass")
	fl.DurationVar(&f.step, "step", 30*time.Second, "how long each rate is held, warm-up included")
	fl.StringVar(&f.warmUp, "warm-up", "20%", "first part of each step left out of its measurement")
	fl.DurationVar(&f.cooldown, "cooldown", 5*time.Second, "pause between steps, so the target drains its queues")
	fl.IntVar(&f.confirm, "confirm", 1, "measure a step again up to this many times when it failed on latency alone while keeping up with the rate (a stall, not saturation)")
	fl.IntVar(&f.req.maxClients, "max-clients", plan.DefaultMaxClients, "most clients (connections) in flight; a plan's max_clients is the default with a plan")
	fl.DurationVar(&f.req.resolution, "resolution", time.Millisecond, "starts due within one step are sent together (0: each on its own)")
	fl.StringVarP(&f.req.method, "method", "m", "GET", "URL only: HTTP method: "+strings.Join(client.Methods, " "))
	fl.StringArrayVarP(&f.req.headers, "header", "H", nil, "URL only: request header 'Key: Value' (repeatable)")
	fl.StringVarP(&f.req.body, "body", "b", "", "URL only: request body")
	fl.StringVar(&f.req.bodyFile, "body-file", "", "URL only: read the request body from `FILE`")
	fl.DurationVar(&f.req.timeout, "timeout", 10*time.Second, "URL only: per-request timeout (connect to last byte)")
	fl.StringVar(&f.req.name, "name", "", "URL only: request name in results (default: METHOD path)")
	fl.BoolVar(&f.req.insecure, "insecure", false, "skip TLS certificate verification")
	fl.BoolVar(&f.req.http2, "http2", false, "use HTTP/2")
	addConnFlags(fl, &f.req.conn)
	fl.StringVar(&f.baseURL, "base-url", "", "plan only: override the plan's base_url")
	fl.StringVarP(&f.format, "output", "o", "text", "result format on stdout: text or json (one line)")
	fl.StringVar(&f.jsonOut, "json-out", "", "also write the JSON result (a capacity object: steps, answer, knee, limit) to `FILE`")
	fl.StringVar(&f.reportOut, "report", "", "write the HTML report to `FILE` (default: capacity.html in the results folder, $FUKA_RESULTS or fuka-results/NAME-TIME)")
	fl.BoolVar(&f.noReport, "no-report", false, "write no results folder (HTML report and capacity.json)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no per-step progress on stderr")
	fl.StringArrayVar(&f.monitorFlags, "monitor", nil, "watch a source for the target's CPU (repeatable): local, process=NAME|PID, agent=HOST:PORT, ...")
	fl.StringVar(&f.agentToken, "agent-token-file", "", "token `FILE` for --monitor agent=...")
	return cmd
}

// capacityDoc is the JSON result: the run around the search's report.
type capacityDoc struct {
	Version     string           `json:"fuka_version"`
	Name        string           `json:"name"`
	Target      string           `json:"target"`
	Started     time.Time        `json:"started"`
	DurationS   float64          `json:"duration_s"`
	Interrupted bool             `json:"interrupted"`
	Capacity    *capacity.Report `json:"capacity"`
}

// stepper measures one capacity step with the engine: base is the load
// whose rate each step replaces; values gives the SLO its numbers.
type stepper struct {
	base   engine.Config
	values func(sum *report.Summary, run *metrics.Run) threshold.Values
	warmUp float64 // fraction of each step
	watch  run.Watch
	log    *slog.Logger
	cpus   int
}

func runCapacity(ctx context.Context, stdio Stdio, f *capacityFlags, cmd *cobra.Command, arg string) error {
	fl := cmd.Flags()
	if f.format != "text" && f.format != "json" {
		return fmt.Errorf("--output %q: want text or json", f.format)
	}
	var slo []*threshold.Expr
	for _, s := range f.slo {
		e, err := capacity.ParseSLO(s)
		if err != nil {
			return fmt.Errorf("--slo: %w", err)
		}
		slo = append(slo, e...)
	}
	precision, err := parseFraction(f.precision)
	if err != nil || precision <= 0 {
		return fmt.Errorf("--precision %q: want a percentage between 0 and 100, e.g. 5%%", f.precision)
	}
	warmUp, err := parseFraction(f.warmUp)
	if err != nil {
		return fmt.Errorf("--warm-up %q: want a percentage of --step below 100, e.g. 20%%", f.warmUp)
	}
	switch {
	case f.step <= 0:
		return fmt.Errorf("--step %v: must be > 0", f.step)
	case f.cooldown < 0:
		return fmt.Errorf("--cooldown %v: must not be negative", f.cooldown)
	case f.confirm < 0:
		return fmt.Errorf("--confirm %d: must not be negative", f.confirm)
	case f.min <= 0:
		return fmt.Errorf("--min %v: must be > 0", f.min)
	case f.max < 0 || (f.max > 0 && f.max < f.min):
		return fmt.Errorf("--max %v: want 0 (no bound) or at least --min %v", f.max, f.min)
	case f.req.maxClients <= 0:
		return fmt.Errorf("--max-clients %d: must be > 0", f.req.maxClients)
	case f.req.resolution < 0 || f.req.resolution > time.Second:
		return fmt.Errorf("--resolution %v: want 0 to 1s", f.req.resolution)
	}

	st := &stepper{warmUp: warmUp, cpus: runtime.NumCPU()}
	var watch run.Watch
	for _, m := range f.monitorFlags {
		ms, err := run.ParseMonitorFlag(m, f.agentToken)
		if err != nil {
			return err
		}
		watch.Monitors = append(watch.Monitors, ms)
	}
	name, target := "", arg
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		for _, planOnly := range []string{"base-url"} {
			if fl.Changed(planOnly) {
				return fmt.Errorf("--%s is for a plan file", planOnly)
			}
		}
		if len(slo) == 0 {
			return errors.New("--slo is required with a URL, e.g. --slo 'p99 < 200ms, error_rate < 1%'")
		}
		// attack's own checks build the request; the rate is set per step.
		req := f.req
		req.rate, req.duration = "1", time.Second
		cfg, meta, err := req.config(arg, true)
		if err != nil {
			return err
		}
		st.base, target = cfg, meta.Target
		st.values = func(sum *report.Summary, _ *metrics.Run) threshold.Values { return threshold.SummaryValues(sum, nil) }
	} else {
		for _, urlOnly := range []string{"method", "header", "body", "body-file", "timeout", "name"} {
			if fl.Changed(urlOnly) {
				return fmt.Errorf("--%s is for a URL; a plan sets its requests", urlOnly)
			}
		}
		c, err := run.CompileFile(arg, f.baseURL)
		if err != nil {
			return planErrors(stdio, err)
		}
		maxClients := 0 // the plan's max_clients or the default
		if fl.Changed("max-clients") {
			maxClients = f.req.maxClients
		}
		tf, err := f.req.conn.files(f.req.http2)
		if err != nil {
			return err
		}
		o := run.Options{Insecure: f.req.insecure, HTTP2: f.req.http2, HTTP1: f.req.conn.http1, TLS: tf, Version: version()}
		base, closeRunner, err := run.CapacityConfig(c, maxClients, f.req.resolution, o)
		if err != nil {
			return err
		}
		defer closeRunner()
		if len(slo) == 0 {
			slo = c.Thresholds
		}
		if len(slo) == 0 {
			return errors.New("no SLO: give --slo or thresholds in the plan")
		}
		if err := watch.FromPlan(c.Plan); err != nil {
			return err
		}
		if len(watch.Profiles) > 0 && !f.quiet {
			fmt.Fprintln(stdio.Err, "capacity: the plan's profile: captures are not taken during a search")
		}
		watch.Profiles = nil
		st.base = base
		st.values = c.Prog.Values
		name, target = c.Plan.Name, c.Plan.BaseURL.Value
	}

	if f.jsonOut != "" {
		if err := run.CheckWritable(f.jsonOut); err != nil {
			return fmt.Errorf("--json-out: %w", err)
		}
	}

	// Build the samplers once now, so a bad source fails before any load;
	// each step watches with its own, on its own clock.
	if err := watch.Check(); err != nil {
		return err
	}
	st.watch = watch
	st.log = slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	started := time.Now()
	cfg := capacity.Config{
		SLO: slo, Min: f.min, Max: f.max, Precision: precision,
		Hold: f.step, Cooldown: f.cooldown, Confirm: f.confirm,
	}
	if !f.quiet {
		fmt.Fprintf(stdio.Err, "capacity: %s: steps of %v (first %g%% not measured), cool-down %v, SLO %s\n",
			target, f.step, warmUp*100, f.cooldown, sloText(slo))
		cfg.OnStep = func(i int, s capacity.Step) {
			fmt.Fprintf(stdio.Err, "step %d: %s/s for %v…\n", i+1, capacity.FormatRate(s.Rate), s.Hold)
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
			fmt.Fprintf(stdio.Err, "step %d: %s/s%s  p50 %s  p99 %s  errors %.2f%%  achieved %.1f/s  %s\n",
				i+1, capacity.FormatRate(r.Rate), again, report.FormatMS(r.P50MS), report.FormatMS(r.P99MS), r.ErrorRate*100, r.RPS, verdict)
		}
	}
	readingInput.Store(false) // from here a signal stops the search gracefully
	rep, serr := capacity.Search(ctx, cfg, st.measure)
	if rep == nil {
		return serr // a bad configuration, found before any load
	}
	interrupted := serr != nil && ctx.Err() != nil
	doc := capacityDoc{
		Version: version(), Name: name, Target: target, Started: started.Round(time.Millisecond),
		DurationS: run.Round3(time.Since(started).Seconds()), Interrupted: interrupted, Capacity: rep,
	}
	var reportPath string
	if !f.noReport {
		// Like a run's report: a failure is a warning, the result is printed.
		if p, err := writeCapacityResults(f.reportOut, doc); err != nil {
			fmt.Fprintf(stdio.Err, "fuka: warning: %v\n", err)
		} else {
			reportPath = p
		}
	}
	var jsonErr error
	if f.jsonOut != "" {
		if err := run.WriteFileAtomic(f.jsonOut, func(w io.Writer) error { return writeCapacityJSON(w, doc) }); err != nil {
			jsonErr = fmt.Errorf("--json-out: %w", err)
		}
	}
	if f.format == "json" {
		if err := writeCapacityJSON(stdio.Out, doc); err != nil {
			return err
		}
		if reportPath != "" && !f.quiet {
			fmt.Fprintf(stdio.Err, "capacity: report %s\n", reportPath)
		}
	} else {
		fmt.Fprintf(stdio.Out, "capacity of %s\n\n", target)
		if err := rep.WriteText(stdio.Out); err != nil {
			return err
		}
		if reportPath != "" {
			fmt.Fprintf(stdio.Out, "  report     %s\n", reportPath)
		}
	}
	switch {
	case interrupted:
		return exitError{ExitInterrupted}
	case serr != nil:
		return serr
	case jsonErr != nil:
		return jsonErr
	case !rep.Found:
		return exitError{ExitThresholds}
	}
	return nil
}

// writeCapacityResults writes the HTML report (and, in the results folder,
// the JSON result next to it) and returns the report's path.
func writeCapacityResults(reportOut string, doc capacityDoc) (string, error) {
	path := reportOut
	if path == "" {
		name := "capacity"
		if doc.Name != "" {
			name = doc.Name + "-capacity"
		}
		dir, err := run.ResultsDir("", name, doc.Started)
		if err != nil {
			return "", err
		}
		path = filepath.Join(dir, "capacity.html")
		if err := run.WriteFileAtomic(filepath.Join(dir, "capacity.json"), func(w io.Writer) error { return writeCapacityJSON(w, doc) }); err != nil {
			return "", err
		}
	}
	info := capacity.RunInfo{
		Name: doc.Name, Target: doc.Target, Version: doc.Version, Started: doc.Started,
		Duration: time.Duration(doc.DurationS * float64(time.Second)), Interrupted: doc.Interrupted,
	}
	if err := run.WriteFileAtomic(path, func(w io.Writer) error { return capacity.WriteHTMLRun(w, doc.Capacity, info) }); err != nil {
		return "", fmt.Errorf("--report: %w", err)
	}
	return path, nil
}

func writeCapacityJSON(w io.Writer, doc capacityDoc) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func sloText(slo []*threshold.Expr) string {
	s := make([]string, len(slo))
	for i, e := range slo {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}

// parseFraction reads "5%" (or "0.05") as 0.05; it must be in [0, 1).
func parseFraction(s string) (float64, error) {
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

// stepRate is one step's load: rate for hold, after lead seconds of none.
//
// The engine measures in whole seconds from the run's start, and a step
// leaves its warm-up out of the measurement. A warm-up that is not a whole
// number of seconds is padded in front with an idle lead, so that it ends on
// a second boundary and the measurement starts exactly there:
//
//	|← lead →|←─ warm-up ─→|←──────── measured ────────→|
//	0        idle ends      ⌈warm-up⌉                    lead+hold (+ in-flight)
func stepRate(rate float64, lead, hold time.Duration) (load.Rate, error) {
	if lead <= 0 {
		return load.NewRate(rate, []load.Stage{{Target: rate, Over: hold}})
	}
	return load.NewRate(0, []load.Stage{{Target: 0, Over: lead}, {Target: rate, Over: 0}, {Target: rate, Over: hold}})
}

// measure runs one step and reduces what it measured after the warm-up.
func (s *stepper) measure(ctx context.Context, rate float64, hold time.Duration) (capacity.Result, error) {
	warm := time.Duration(float64(hold) * s.warmUp)
	skip := warm.Truncate(time.Second)
	if skip < warm {
		skip += time.Second
	}
	r, err := stepRate(rate, skip-warm, hold)
	if err != nil {
		return capacity.Result{}, fmt.Errorf("rate %v: %w", rate, err)
	}
	cfg := s.base
	l := cfg.Load.(engine.Open) // the base's rate is replaced
	l.Rate = r
	cfg.Load = l
	acc := &stepAccumulator{after: int(skip / time.Second), total: metrics.NewStats()}
	cfg.OnSnapshot = acc.add
	// The watch runs on the step's clock: its sample at k s covers
	// (k−1 s, k s], as the engine's interval k does.
	wt, err := s.watch.Start(ctx, 0, 0, func() (string, error) { return "", errors.New("no results folder") }, s.log)
	if err != nil {
		return capacity.Result{}, err
	}
	wt.Begin(time.Now())
	res, err := engine.Run(ctx, cfg)
	wt.Stop()
	if err != nil {
		return capacity.Result{}, err
	}
	if res.Interrupted {
		if err := ctx.Err(); err != nil {
			return capacity.Result{}, err
		}
		return capacity.Result{}, context.Canceled
	}
	if res.DataExhausted {
		return capacity.Result{}, errors.New("the plan's unique data ran out during the step")
	}
	run := &metrics.Run{
		Names: res.Run.Names, ByName: acc.byName, Total: acc.total, Dropped: acc.dropped,
		CheckNames: res.Run.CheckNames, Checks: acc.checks,
	}
	for len(run.ByName) < len(run.Names) {
		run.ByName = append(run.ByName, metrics.NewStats())
	}
	for len(run.Checks) < len(run.CheckNames) {
		run.Checks = append(run.Checks, [2]int64{})
	}
	span := max(res.Elapsed-skip, 0)
	sum := report.NewSummary(report.Meta{Model: report.ModelOpen, LatencyFrom: report.FromIntended, Elapsed: span}, run)
	t := run.Total
	out := capacity.Result{
		P50MS: sum.Latency.P50MS, P99MS: sum.Latency.P99MS, Requests: t.Requests,
		RPS: sum.RPS, Dropped: run.Dropped, Values: s.values(sum, run),
		Refused: t.Requests > 0 && t.Errors[metrics.ErrRefused] == t.Requests,
	}
	if t.Requests > 0 {
		out.ErrorRate = float64(t.Failed) / float64(t.Requests)
	}
	if due := rate * (hold - warm).Seconds(); due > 0 {
		out.DroppedRatio = min(1, float64(run.Dropped)/due)
	}
	if s.cpus > 0 {
		if v, _, ok := windowMean(wt.SelfPoints(), skip, res.Elapsed, selfCPU); ok {
			out.GenCPUPct = new(round1(v / float64(s.cpus)))
		}
	}
	if v, series, ok := windowMean(wt.Points(), skip, res.Elapsed, targetCPU); ok {
		out.TargetCPUPct, out.TargetCPUSeries = new(round1(v)), series
	}
	return out, nil
}

// stepAccumulator merges a step's per-second snapshots after its warm-up:
// interval k covers (k−1 s, k s], and those with k ≤ after are warm-up.
type stepAccumulator struct {
	after   int
	byName  []*metrics.Stats
	total   *metrics.Stats
	checks  [][2]int64
	dropped int64
}

func (a *stepAccumulator) add(s *metrics.Snapshot) {
	if s.Interval <= a.after {
		return
	}
	a.dropped += s.Dropped
	for i, st := range s.Stats {
		for len(a.byName) <= i {
			a.byName = append(a.byName, metrics.NewStats())
		}
		a.byName[i].Merge(st)
		a.total.Merge(st)
	}
	for i, c := range s.Checks {
		for len(a.checks) <= i {
			a.checks = append(a.checks, [2]int64{})
		}
		a.checks[i][0] += c[0]
		a.checks[i][1] += c[1]
	}
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

// targetCPU picks the target's CPU from monitored series: a watched
// process's cpu_pct (100 = one core) first, else a host's busy share
// (100 − idle), an agent's host before the local one.
func targetCPU(vals map[string]float64) (float64, string, bool) {
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
			return 100 - vals[k], strings.TrimSuffix(k, "idle_pct") + "busy_pct", true
		}
	}
	if v, ok := vals["cpu.idle_pct"]; ok {
		return 100 - v, "cpu.busy_pct", true
	}
	return 0, "", false
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
