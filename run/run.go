// Package run owns one run of load: where the load comes from (a Source:
// this process's engine, or a cluster of workers), what watches the target
// on the load's clock (monitors, profiles, kubernetes), what judges it
// (thresholds, abort_when rules, a capacity step's SLO) and where the
// results go (progress, dashboard, live outputs, text/JSON/HTML, history).
//
// fuka attack, fuka run, each step of fuka capacity and distributed runs
// all go through Run; the command line only turns flags into a Spec and an
// Outcome into an exit code. The shape follows vegeta's thin cmd over lib.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/fuka-load/fuka/dashboard"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/findings"
	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/output"
	"github.com/fuka-load/fuka/report"
)

// Spec is one run.
type Spec struct {
	Config engine.Config // the load and the work
	Meta   report.Meta   // what the report says about the run
	Source Source        // where the load comes from; nil: Local
	Watch  Watch         // monitors and profiles, on the load's clock
	Judges []Judge       // thresholds, abort rules, a capacity step's measurement
	Out    Outputs       // where the results go
	Stdout io.Writer     // the summary
	Stderr io.Writer     // progress, warnings, news
	CPUs   int           // CPUs the generator may use; 0: GOMAXPROCS
	// Loading, if set, is called when every check is done and the load is
	// about to start: from there a signal should stop the load gracefully
	// rather than end the process.
	Loading func()
}

// Source runs a load: this process's engine (Local) or workers (a cluster).
type Source interface {
	// Load runs cfg and returns what it measured. It calls started once
	// with the load's t=0 (the first intended start) before the first
	// start: the watchers' clock.
	Load(ctx context.Context, cfg engine.Config, started func(t0 time.Time)) (*engine.Result, error)
}

// failureHinter is a scenario that knows what the target answered a failed
// request (a gRPC status message), which the summary does not keep.
type failureHinter interface{ FailureHint() string }

// withHint adds hint to the all-failed message msg.
func withHint(msg, hint string) string {
	switch {
	case hint == "":
		return msg
	case strings.Contains(msg, " — "):
		return msg + "; " + hint
	}
	return msg + " — " + hint
}

// Describer is a Source that adds to the summary what only it knows (a
// cluster's workers, and whether the run is degraded), before the judges
// see it.
type Describer interface {
	Describe(sum *report.Summary)
}

// Local runs the load with this process's engine.
var Local Source = local{}

type local struct{}

// Load prepares the run (its pre-connecting is before t=0), then runs
// it; t=0 is when its clock starts (the engine's first start is due right
// then).
func (local) Load(ctx context.Context, cfg engine.Config, started func(time.Time)) (*engine.Result, error) {
	p, err := engine.Prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	started(time.Now())
	return p.Run(ctx)
}

// Judge evaluates a run while it goes and when it has ended.
type Judge interface {
	// Tick sees each one-second interval as it closes. A non-empty stop
	// ends the run early (abort_when) and says why.
	Tick(elapsed time.Duration, p metrics.Point, run *metrics.Run) (stop string)
	// Judge adds its verdicts to the final summary; failed makes the
	// run's outcome a threshold failure.
	Judge(sum *report.Summary, run *metrics.Run) (failed bool)
}

// Outcome is how a run ended.
type Outcome struct {
	Summary *report.Summary // nil when the run was interrupted before its load started
	Result  *engine.Result
	// Code is the run's exit code: 0 ok, 1 thresholds or abort_when, 3
	// every request failed, 4 degraded distributed run, 130 interrupted
	// (in that precedence: 130, 3, 4, 1).
	Code int
	// Status is the run's status in the history (history.Status*), in the
	// same precedence as Code.
	Status string
	// Watched is what the watch sampled (Points, SelfPoints): a capacity
	// step measures the target's and fuka's CPU over its window from it.
	Watched *Watcher
	// Err is a results file that could not be written (--json-out,
	// --junit, --summary-md): the summary was printed, but the run must
	// not exit 0.
	Err error
}

// ErrInterrupted is returned by a Source stopped before its load started
// (a distributed run waiting for its workers): Run's Outcome is then
// CodeInterrupted, with nothing measured.
var ErrInterrupted = errors.New("interrupted before the load started")

// Outputs says where the results go.
type Outputs struct {
	Format    string   // summary on Stdout: text, json (one line), or none
	JSONOut   string   // also write the JSON summary to this file
	Quiet     bool     // no live progress, no news about the history
	Results   string   // folder for this run's files; "" = $FUKA_RESULTS or fuka-results, /NAME-TIME
	Out       []string // live outputs: prometheus=ADDR, otlp=URL, prometheus-rw=URL, csv=DIR
	RunID     string   // the live outputs' run_id label; "" = output.NewRunID()
	CSVDir    string   // timeline.csv, summary.csv into this folder
	Notify    string   // POST a short result message to this URL at the end
	Report    string   // the HTML report's file; "" = report.html in the results folder
	NoReport  bool     // write no results folder (HTML report and summary.json)
	Dashboard string   // serve a live dashboard with a stop button on this address
	DashToken string   // the dashboard's token (required off loopback)
	History   string   // history database; "" = the default
	NoHistory bool     // do not store the run in the history
	// JUnit and SummaryMD are the CI files written at the end (--junit,
	// --summary-md); StepSummary is a file the markdown summary is
	// appended to ($GITHUB_STEP_SUMMARY). See writeCI.
	JUnit, SummaryMD, StepSummary string
}

// runner is one Run in progress.
type runner struct {
	spec    Spec
	cfg     engine.Config
	meta    report.Meta
	stderr  io.Writer
	sinks   []output.Sink
	dash    *dashboard.Server
	stopped atomic.Bool // the dashboard's stop button was pressed
	prog    *report.Progress
	wt      *Watcher
	dir     string // the results folder once made, so profiles and reports share it

	// The first judge's stop (abort_when) cancels the load with errStop
	// and says why.
	abort   context.CancelCauseFunc
	stopMsg string
}

var errStop = errors.New("a judge stopped the run")

// Run runs spec with live progress and writes the summary. An interrupted
// run still writes everything it measured (Outcome.Code 130). The error is
// an input error found before the load (a bad flag, source or path) or a
// load that could not run; what went wrong after the load started is in
// the Outcome.
func Run(ctx context.Context, spec Spec) (*Outcome, error) {
	r := &runner{spec: spec, cfg: spec.Config, meta: spec.Meta, stderr: spec.Stderr}
	if r.meta.Protocols == nil {
		r.meta.Protocols = protocolsOf(spec.Config.Work)
	}
	if r.stderr == nil {
		r.stderr = io.Discard
	}
	if r.spec.Stdout == nil {
		r.spec.Stdout = io.Discard
	}
	defer func() {
		if r.stopMsg != "" {
			fmt.Fprintf(r.stderr, "fuka: run aborted early: %s\n", r.stopMsg)
		}
	}()
	if err := r.prepare(); err != nil {
		return nil, err
	}
	// The sinks are open from prepare on (a Prometheus endpoint listens),
	// so an error found after it (--dashboard, --json-out, a failing
	// encode) must close them too. closeSinks empties r.sinks, so after
	// the normal close this does nothing.
	defer r.closeSinks(nil)
	abortCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	r.abort = abort
	ctx, stopDash, err := r.startDashboard(abortCtx)
	if err != nil {
		return nil, err
	}
	defer stopDash()
	res, err := r.load(ctx)
	if err != nil {
		if errors.Is(err, ErrInterrupted) {
			return &Outcome{Code: CodeInterrupted, Status: history.StatusInterrupted}, nil
		}
		return nil, err
	}
	for _, sk := range r.sinks {
		if f, ok := sk.(output.Finisher); ok && res.Run != nil {
			f.Finish(res.Run) // the last, partial interval reached no tick
		}
	}
	r.drainSinks()
	sum, v := r.summarize(ctx, abortCtx, res)
	jsonErr, err := r.write(sum)
	if err != nil {
		return nil, err
	}
	// Before remember: the comparison is with the run before this one.
	ciErr := r.writeCI(sum, v)
	r.remember(sum, v)
	r.finish(sum)
	o := &Outcome{Summary: sum, Result: res, Code: v.code(), Status: v.status(), Watched: r.wt, Err: errors.Join(jsonErr, ciErr)}
	if o.Code == CodeAllFailed && o.Err == nil && r.spec.Out.Format != "text" {
		// The text summary on stdout has it already; a --json-out that
		// failed is what the command line reports instead.
		fmt.Fprintf(r.stderr, "fuka: %s\n", v.allFailed)
	}
	return o, nil
}

// prepare checks the outputs and the watch before the run: bad flags are
// input errors found in a second, not after a long run.
func (r *runner) prepare() error {
	o := &r.spec.Out
	switch o.Format {
	case "text", "json", "none":
	default:
		return fmt.Errorf("--output %q: want text or json", o.Format)
	}
	if err := r.spec.Watch.parseFlags(); err != nil {
		return err
	}
	if err := r.spec.Watch.Check(); err != nil {
		return err
	}
	if o.Notify != "" {
		if u, err := url.Parse(o.Notify); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--notify %q: want an http(s) URL", o.Notify)
		}
	}
	specs := o.Out
	if o.CSVDir != "" {
		specs = append(specs[:len(specs):len(specs)], "csv="+o.CSVDir)
	}
	runID := o.RunID
	if runID == "" {
		runID = output.NewRunID()
	}
	scopes := r.scopes()
	for _, spec := range specs {
		sk, err := output.ParseOutWith(spec, runID)
		if err != nil {
			r.closeSinks(nil)
			// The error names the spec already ("out SPEC: ..."); naming it
			// here too printed it twice. The flag is --out.
			return fmt.Errorf("--%w", err)
		}
		if s, ok := sk.(output.ScopeSink); ok {
			s.SetScopes(scopes)
		}
		r.sinks = append(r.sinks, sk)
	}
	return nil
}

// scopes places a plan's request names in its scenarios and groups, for
// the live outputs' labels (none in quick mode). A name in several is in
// each, comma-separated.
func (r *runner) scopes() output.Scopes {
	var sc output.Scopes
	for _, j := range r.spec.Judges {
		pj, ok := j.(*PlanJudge)
		if !ok || pj.plan.Prog == nil {
			continue
		}
		n := len(pj.plan.Prog.Requests)
		sc.Scenario, sc.Group = make([]string, n), make([]string, n)
		for _, s := range pj.plan.Prog.Scopes() {
			dst := sc.Scenario
			if s.Group {
				dst = sc.Group
			}
			for _, i := range s.Requests {
				if i >= 0 && i < n {
					if dst[i] != "" {
						dst[i] += ","
					}
					dst[i] += s.Name
				}
			}
		}
	}
	return sc
}

// startDashboard serves the dashboard (--dashboard); its stop button ends
// the run the way Ctrl-C does: scheduling stops, in-flight requests
// finish, the report is complete. The returned func closes the dashboard.
func (r *runner) startDashboard(ctx context.Context) (context.Context, func(), error) {
	if r.spec.Out.Dashboard == "" {
		return ctx, func() {}, nil
	}
	ctx, stop := context.WithCancel(ctx)
	d, err := dashboard.New(r.spec.Out.Dashboard, r.spec.Out.DashToken, func() { r.stopped.Store(true); stop() })
	if err != nil {
		stop()
		return ctx, nil, fmt.Errorf("--dashboard: %w", err)
	}
	r.dash = d
	fmt.Fprintf(r.stderr, "dashboard: %s\n", d.URL())
	return ctx, func() { d.Close(); stop() }, nil
}

// onTick feeds each closed interval to the progress line, the live
// outputs, the dashboard and the judges.
func (r *runner) onTick() func(time.Duration, metrics.Point, *metrics.Run) {
	dashSent := 0 // timeline points already published to the dashboard
	return func(elapsed time.Duration, p metrics.Point, run *metrics.Run) {
		if r.prog != nil {
			r.prog.UpdateRun(elapsed, p, run)
		}
		res := r.wt.Latest() // the monitors' latest sample, for the live outputs
		for _, sk := range r.sinks {
			if rs, ok := sk.(output.ResourceSink); ok && res.Values != nil {
				rs.Resources(res.At, res.Values)
			}
			sk.Tick(elapsed, p, run)
		}
		if r.dash != nil {
			live := r.meta
			live.Elapsed = elapsed
			news := *run
			news.Timeline = run.Timeline[dashSent:]
			dashSent = len(run.Timeline)
			r.dash.PublishNew(report.NewSummary(live, &news))
		}
		for _, j := range r.spec.Judges {
			if msg := j.Tick(elapsed, p, run); msg != "" && r.stopMsg == "" {
				r.stopMsg = msg
				r.abort(errStop)
			}
		}
	}
}

// load starts the watch and runs the load from its Source; the watch
// begins at the load's t=0 and stops when the load is done.
func (r *runner) load(ctx context.Context) (*engine.Result, error) {
	if !r.spec.Out.Quiet {
		r.prog = report.NewProgress(r.stderr, isTTY(r.stderr), r.meta.Planned)
	}
	r.cfg.OnTick = r.onTick()
	// A bad path is an input error found in a second, not after a long
	// run; the files themselves are written, whole, at the end.
	for _, f := range [...]struct{ flag, path string }{
		{"--json-out", r.spec.Out.JSONOut}, {"--junit", r.spec.Out.JUnit}, {"--summary-md", r.spec.Out.SummaryMD},
	} {
		if f.path == "" {
			continue
		}
		if err := CheckWritable(f.path); err != nil {
			return nil, fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	r.meta.Started = time.Now() // until the Source says when the load starts
	log := slog.New(slog.NewTextHandler(r.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	wt, err := r.spec.Watch.Start(ctx, r.meta.Planned, peakOf(r.cfg.Load), r.resultsDir, log)
	if err != nil {
		return nil, err
	}
	r.wt = wt
	if r.cfg.Loops == 0 {
		r.cfg.Loops = r.cpus()
	}
	if r.spec.Loading != nil {
		r.spec.Loading()
	}
	src := r.spec.Source
	if src == nil {
		src = Local
	}
	res, err := src.Load(ctx, r.cfg, func(t0 time.Time) {
		r.meta.Started = t0
		wt.Begin(t0)
	})
	wt.Stop()
	if r.prog != nil {
		r.prog.Done()
	}
	if err != nil {
		r.closeSinks(nil)
		return nil, err
	}
	return res, nil
}

// protocolsOf is each request name's protocol for the reports (see
// report.Meta.Protocols): a scenario that is not all HTTP (gRPC calls,
// WebSocket steps) says so; nil means HTTP.
func protocolsOf(w engine.Work) []string {
	var sc engine.Scenario
	switch w := w.(type) {
	case engine.Plan:
		sc = w.Scenario
	case engine.Parts:
		if len(w.Parts) > 0 {
			sc = w.Parts[0].Scenario // every part records under the plan's names
		}
	}
	if p, ok := sc.(interface{ Protocols() []string }); ok {
		return p.Protocols()
	}
	return nil
}

// summarize builds the summary of what the load measured and what was
// watched, has the judges judge it, and tells the verdict.
func (r *runner) summarize(ctx, abortCtx context.Context, res *engine.Result) (*report.Summary, verdict) {
	meta := &r.meta
	meta.Elapsed, meta.Scheduled, meta.Interrupted = res.Elapsed, res.Scheduled, res.Interrupted
	meta.LostStarts = res.LostStarts
	if w := res.Warmup; w != nil {
		meta.Warmup = report.WarmupOf(w.Wanted, w.Opened, w.Failed, w.Error, w.Elapsed, w.ConnectP50, w.ConnectMax)
	}
	end := endOf(&r.cfg, res, r.stopped.Load())
	if errors.Is(context.Cause(abortCtx), errStop) && end.Reason == report.EndInterrupted {
		end.Reason, end.Detail = report.EndAbortWhen, r.stopMsg
	}
	for _, j := range r.spec.Judges {
		if e, ok := j.(Explainer); ok {
			e.ExplainEnd(res, &end)
		}
	}
	meta.EndReason, meta.EndDetail = end.Reason, end.Detail
	if meta.Model == report.ModelOpen {
		meta.Clients = res.PeakClients
	}
	sum := report.NewSummary(*meta, res.Run)
	sum.SetTransport(res.Transport)
	sum.Warnings = append(sum.Warnings, end.Warnings...)
	r.wt.Fill(sum, r.cpus())
	for _, sk := range r.sinks {
		if w, ok := sk.(output.Warner); ok {
			sum.Warnings = append(sum.Warnings, w.Warnings()...)
		}
	}
	if d, ok := r.spec.Source.(Describer); ok {
		d.Describe(sum)
	}
	// fuka's own CPU is the generator's only when this process made the
	// load (a cluster's workers measure their own).
	var gen findings.Generator
	if src := r.spec.Source; src == nil || src == Local {
		gen = r.wt.Generator(r.cpus())
	}
	sum.Findings = findings.Analyze(sum, gen)
	failed := false
	for _, j := range r.spec.Judges {
		if j.Judge(sum, res.Run) {
			failed = true
		}
	}
	v := judgeEnd(res, end, ctx.Err() != nil, sum, failed)
	if p, ok := r.cfg.Work.(engine.Plan); ok && v.allFailed != "" {
		if h, ok := p.Scenario.(failureHinter); ok {
			v.allFailed = withHint(v.allFailed, h.FailureHint())
		}
	}
	if v.allFailed != "" {
		sum.Warnings = append(sum.Warnings, v.allFailed)
	}
	return sum, v
}

// write writes the results folder, the dashboard's final numbers,
// --json-out and the summary on Stdout. jsonErr is a --json-out that could
// not be written; err a summary that could not be printed.
func (r *runner) write(sum *report.Summary) (jsonErr, err error) {
	o := &r.spec.Out
	if !o.NoReport {
		if err := r.writeResults(sum); err != nil {
			fmt.Fprintf(r.stderr, "fuka: warning: %v\n", err)
		}
	}
	if r.dash != nil {
		r.dash.Finish(sum) // the final numbers and the report, for anyone still watching
	}
	if o.JSONOut != "" {
		if err := WriteFileAtomic(o.JSONOut, sum.WriteJSON); err != nil {
			jsonErr = fmt.Errorf("--json-out: %w", err)
		}
	}
	switch o.Format {
	case "json":
		// One line, so scripts can take the last line that starts with '{'.
		enc := json.NewEncoder(r.spec.Stdout)
		enc.SetEscapeHTML(false)
		err = enc.Encode(sum)
	case "text":
		// The whole text is the summary's, so fuka report N prints it
		// again byte for byte.
		err = sum.WriteText(r.spec.Stdout)
	}
	return jsonErr, err
}

// finish closes the live outputs with the final summary and sends
// --notify; their failures are warnings, the results are already out.
func (r *runner) finish(sum *report.Summary) {
	for _, err := range r.closeSinks(sum) {
		fmt.Fprintf(r.stderr, "fuka: warning: %v\n", err)
	}
	if r.spec.Out.Notify != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := output.Notify(ctx, r.spec.Out.Notify, sum); err != nil {
			fmt.Fprintf(r.stderr, "fuka: warning: --notify: %v\n", err)
		}
		cancel()
	}
}

// drainSinks lets the live outputs deliver what they hold (for at most
// 10 s) before the summary is built, so that what they lost is in its
// warnings, not only on stderr after it.
func (r *runner) drainSinks() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, sk := range r.sinks {
		if d, ok := sk.(output.Drainer); ok {
			d.Drain(ctx)
		}
	}
}

// closeSinks closes every sink with the final summary (nil: the run never
// started), returning the errors as warnings: an output that failed must
// not lose the results already printed.
func (r *runner) closeSinks(sum *report.Summary) []error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, sk := range r.sinks {
		if err := sk.Close(ctx, sum); err != nil {
			errs = append(errs, err)
		}
	}
	r.sinks = nil
	return errs
}

// cpus returns the CPUs the generator may use.
func (r *runner) cpus() int {
	if r.spec.CPUs > 0 {
		return r.spec.CPUs
	}
	return runtime.GOMAXPROCS(0)
}

// isTTY reports whether w is a terminal.
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
