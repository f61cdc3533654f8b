package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/dashboard"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/output"
	"github.com/fuka-load/fuka/profile"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html"
)

// outputs says where the results go and what else watches the run.
type outputs struct {
	format  string // text | json
	jsonOut string // file, "" for none
	quiet   bool
	results string // folder for this run's files (profiles, reports): "" = fuka-results/<name>-<time>
	// judge, if set, evaluates the run (thresholds) into the summary before
	// it is written, and reports whether the run failed them.
	judge func(sum *report.Summary, run *metrics.Run) (failed bool)
	// onTick, if set, sees the run once a second (abort_when).
	onTick func(elapsed time.Duration, p metrics.Point, run *metrics.Run)
	// explainEnd, if set, refines why the run ended with what only the
	// caller knows (an abort_when rule, the data that ran out) and may add
	// warnings for the summary.
	explainEnd func(res *engine.Result, end *runEnd)
	// runLoad, if set, runs the load instead of engine.Run in this process:
	// a distributed run's controller merges its workers' results
	// (cluster_run.go). Everything after it is the same for both. It calls
	// started with the load's t=0 before the load starts: the monitors'
	// and profiles' clock.
	runLoad func(ctx context.Context, cfg engine.Config, started func(time.Time)) (*engine.Result, error)

	outFlags []string // --out kind=target
	notify   string   // --notify URL
	csvDir   string   // --csv DIR
	sinks    []output.Sink

	reportOut string // --report FILE; "" = report.html in the results folder
	noReport  bool
	dashAddr  string // --dashboard ADDR
	dashToken string

	history   string // --history FILE; "" = the default database
	noHistory bool

	dir string // the results folder once made, so profiles and reports share it

	monitorFlags []string
	agentToken   string
	profileFlags []string
	watch        watchSpec
}

// addOutputFlags registers the flags attack and run share.
func addOutputFlags(fl *pflag.FlagSet, o *outputs) {
	fl.StringVarP(&o.format, "output", "o", "text", "summary format on stdout: text or json (one line)")
	fl.StringVar(&o.jsonOut, "json-out", "", "also write the JSON summary to `FILE`")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "no live progress")
	fl.StringVar(&o.results, "results", "", "`DIR` for this run's files (report, summary, profiles); default $FUKA_RESULTS or fuka-results, /NAME-TIME")
	fl.StringArrayVar(&o.outFlags, "out", nil, "live metrics while running (repeatable): prometheus=127.0.0.1:9464, otlp=http://127.0.0.1:4318, csv=DIR")
	fl.StringVar(&o.csvDir, "csv", "", "write timeline.csv, summary.csv (and resources.csv) into `DIR`")
	fl.StringVar(&o.notify, "notify", "", "POST a short result message (Slack-compatible webhook JSON) to `URL` when the run ends")
	fl.StringVar(&o.reportOut, "report", "", "write the HTML report to `FILE` (default: report.html in the results folder)")
	fl.BoolVar(&o.noReport, "no-report", false, "write no results folder (HTML report and summary.json)")
	fl.StringVar(&o.dashAddr, "dashboard", "", "serve a live dashboard with a stop button on `ADDR`, e.g. 127.0.0.1:5665 (a token is required off loopback)")
	fl.StringVar(&o.dashToken, "dashboard-token", "", "token for --dashboard (required when it is not on loopback)")
	fl.StringVar(&o.history, "history", "", "run history database `FILE` (default: $XDG_DATA_HOME/fuka/history.db or ~/.local/share/fuka/history.db)")
	fl.BoolVar(&o.noHistory, "no-history", false, "do not store this run in the history database")
	fl.StringArrayVar(&o.monitorFlags, "monitor", nil, "watch a source during the run (repeatable): local, process=NAME|PID, nginx=URL, postgres=DSN, redis=ADDR, prometheus=URL[|name,glob*], agent=HOST:PORT, kubernetes=NS/deployment=api,hpa=api")
	fl.StringVar(&o.agentToken, "agent-token-file", "", "token `FILE` for --monitor agent=...")
	fl.StringArrayVar(&o.profileFlags, "profile", nil, "capture pprof profiles (repeatable): URL[,at=peak|60%|30s][,seconds=10][,kinds=cpu+heap+goroutine]")
}

// prepare checks the output options before the run: bad flags are input
// errors found in a second, not after a long run.
func (o *outputs) prepare() error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--output %q: want text or json", o.format)
	}
	for _, m := range o.monitorFlags {
		ms, err := parseMonitorFlag(m, o.agentToken)
		if err != nil {
			return err
		}
		o.watch.monitors = append(o.watch.monitors, ms)
	}
	for _, p := range o.profileFlags {
		sp, err := profile.ParseSpec(p)
		if err != nil {
			return fmt.Errorf("--profile %q: %w", p, err)
		}
		o.watch.profiles = append(o.watch.profiles, sp)
	}
	// Build the samplers once now, so a bad source fails before any load.
	ss, err := o.watch.samplers()
	if err != nil {
		return err
	}
	// These trial samplers only check the sources: close them, since a
	// postgres one holds a pool with a goroutine of its own. startWatch
	// builds the samplers the run uses.
	for _, s := range ss {
		if c, ok := s.(io.Closer); ok {
			c.Close()
		}
	}
	if o.notify != "" {
		if u, err := url.Parse(o.notify); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--notify %q: want an http(s) URL", o.notify)
		}
	}
	specs := o.outFlags
	if o.csvDir != "" {
		specs = append(specs, "csv="+o.csvDir)
	}
	for _, spec := range specs {
		sk, err := output.ParseOut(spec)
		if err != nil {
			o.closeSinks(nil)
			return fmt.Errorf("--out %q: %w", spec, err)
		}
		o.sinks = append(o.sinks, sk)
	}
	return nil
}

// closeSinks closes every sink with the final summary (nil: the run never
// started), reporting errors as warnings: an output that failed must not
// lose the results already printed.
func (o *outputs) closeSinks(sum *report.Summary) []error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, sk := range o.sinks {
		if err := sk.Close(ctx, sum); err != nil {
			errs = append(errs, err)
		}
	}
	o.sinks = nil
	return errs
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// resultsDir returns (creating it) the folder for this run's files.
func (o *outputs) resultsDir(name string, started time.Time) (string, error) {
	if o.dir != "" {
		return o.dir, nil
	}
	dir := o.results
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("results folder: %w", err)
		}
		o.dir = dir
		return dir, nil
	}
	if name == "" {
		name = "attack"
	}
	root := os.Getenv("FUKA_RESULTS")
	if root == "" {
		root = "fuka-results"
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("results folder: %w", err)
	}
	// The folder is made here, new, so runs started in the same second
	// do not share one (the later would overwrite the earlier's report):
	// NAME-TIME, else NAME-TIME-2, -3, ...
	base := filepath.Join(root, unsafeName.ReplaceAllString(name, "_")+"-"+started.Format("20060102-150405"))
	for i := 1; ; i++ {
		dir = base
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			o.dir = dir
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("results folder: %w", err)
		}
	}
}

// writeResults writes the HTML report (and, in the results folder, the
// JSON summary next to it), and names the report in sum.ReportFile.
func (o *outputs) writeResults(sum *report.Summary) error {
	path, dir := o.reportOut, ""
	if path == "" {
		var err error
		if dir, err = o.resultsDir(sum.Name, sum.Started); err != nil {
			return err
		}
		path = filepath.Join(dir, "report.html")
	}
	// The summary names its HTML report (and so does its text) only once
	// the report is written.
	var htmlErr error
	if err := writeFileAtomic(path, func(w io.Writer) error { return html.Write(w, sum) }); err != nil {
		htmlErr = fmt.Errorf("--report: %w", err)
	} else {
		sum.ReportFile = path
	}
	if dir != "" {
		if err := writeFileAtomic(filepath.Join(dir, "summary.json"), sum.WriteJSON); err != nil {
			return errors.Join(err, htmlErr)
		}
	}
	return htmlErr
}

// writeFileAtomic writes through a temporary file in the same folder,
// renamed into place when complete: a reader, or a run stopped mid-write
// by a second Ctrl-C, never finds half a file (an earlier file at path
// stays as it was until the rename).
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".fuka-*")
	if err != nil {
		return err
	}
	temps.add(f.Name())
	defer temps.remove(f.Name())
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// checkWritable finds, before the run, that a results file cannot be
// written at path (a missing permission, a folder in the way), without
// touching a file already there: the results are written at the end, and
// atomically (writeFileAtomic).
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	f, err := os.CreateTemp(dir, ".fuka-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// temps are the temporary files being written, which a second Ctrl-C
// (os.Exit) removes before it exits.
var temps tempFiles

type tempFiles struct {
	mu    sync.Mutex
	names map[string]bool
}

func (t *tempFiles) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
}

func (t *tempFiles) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, name)
}

// removeAll deletes the files being written; the writers are abandoned.
func (t *tempFiles) removeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name := range t.names {
		os.Remove(name)
	}
}

// execute runs cfg with live progress and writes the summary. An interrupted
// run still writes everything it measured and exits 130.
func execute(ctx context.Context, stdio Stdio, cfg engine.Config, meta report.Meta, out outputs) error {
	if err := out.prepare(); err != nil {
		return err
	}
	// The sinks are open from prepare on (a Prometheus endpoint listens),
	// so an error found after it (--dashboard, --json-out, a failing
	// encode) must close them too. closeSinks empties out.sinks, so after
	// the normal close this does nothing.
	defer out.closeSinks(nil)
	var dash *dashboard.Server
	var stopped atomic.Bool // the dashboard's stop button was pressed
	if out.dashAddr != "" {
		// The stop button ends the run the way Ctrl-C does: scheduling
		// stops, in-flight requests finish, the report is complete.
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		d, err := dashboard.New(out.dashAddr, out.dashToken, func() { stopped.Store(true); stop() })
		if err != nil {
			return fmt.Errorf("--dashboard: %w", err)
		}
		defer d.Close()
		dash = d
		fmt.Fprintf(stdio.Err, "dashboard: %s\n", d.URL())
	}
	dashSent := 0 // timeline points already published to the dashboard
	var prog *report.Progress
	if !out.quiet {
		prog = report.NewProgress(stdio.Err, isTTY(stdio.Err), meta.Planned)
	}
	cfg.OnTick = func(elapsed time.Duration, p metrics.Point, run *metrics.Run) {
		if prog != nil {
			prog.UpdateRun(elapsed, p, run)
		}
		for _, sk := range out.sinks {
			sk.Tick(elapsed, p, run)
		}
		if dash != nil {
			live := meta
			live.Elapsed = elapsed
			news := *run
			news.Timeline = run.Timeline[dashSent:]
			dashSent = len(run.Timeline)
			dash.PublishNew(report.NewSummary(live, &news))
		}
		if out.onTick != nil {
			out.onTick(elapsed, p, run)
		}
	}
	if out.jsonOut != "" {
		// A bad path is an input error found in a second, not after a long
		// run; the file itself is written, whole, at the end.
		if err := checkWritable(out.jsonOut); err != nil {
			return fmt.Errorf("--json-out: %w", err)
		}
	}
	meta.Started = time.Now()
	log := slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	peak := peakOf(cfg.Load)
	// Monitors and profiles run on the load's clock: a local load starts
	// now; a distributed one when its workers start, after they joined.
	watchStart := meta.Started
	if out.runLoad != nil {
		watchStart = time.Time{}
	}
	wt, err := startWatch(ctx, out.watch, watchStart, meta.Planned, peak,
		func() (string, error) { return out.resultsDir(meta.Name, meta.Started) }, log)
	if err != nil {
		return err
	}
	if cfg.Loops == 0 {
		cfg.Loops = stdio.cpus()
	}
	readingInput.Store(false) // from here a signal stops the load gracefully
	var res *engine.Result
	if out.runLoad != nil {
		// distributed: the workers send the load (cluster_run.go)
		res, err = out.runLoad(ctx, cfg, func(start time.Time) {
			meta.Started = start
			wt.begin(start)
		})
	} else {
		res, err = engine.Run(ctx, cfg)
	}
	wt.stop()
	if prog != nil {
		prog.Done()
	}
	if err != nil {
		out.closeSinks(nil)
		return err
	}
	meta.Elapsed, meta.Scheduled, meta.Interrupted = res.Elapsed, res.Scheduled, res.Interrupted
	meta.LostStarts = res.LostStarts
	end := endOf(&cfg, res, stopped.Load())
	if out.explainEnd != nil {
		out.explainEnd(res, &end)
	}
	meta.EndReason, meta.EndDetail = end.reason, end.detail
	if meta.Model == report.ModelOpen {
		meta.Clients = res.PeakClients
	}
	sum := report.NewSummary(meta, res.Run)
	sum.Transport = res.Transport
	sum.Warnings = append(sum.Warnings, end.warnings...)
	wt.fill(sum, stdio.cpus())
	failed := false
	if out.judge != nil {
		failed = out.judge(sum, res.Run)
	}
	// An abort_when rule stops the run as Ctrl-C does, but it is a verdict
	// on the target, not the user stopping it.
	// --on-worker-loss stop also stops the run early: a degraded run,
	// unless the user stopped it too.
	interrupted := res.Interrupted && end.reason != report.EndAbortWhen && (ctx.Err() != nil || !sum.Degraded)
	allFailed := ""
	if !interrupted {
		allFailed = sum.AllFailed()
	}
	if allFailed != "" {
		sum.Warnings = append(sum.Warnings, allFailed)
	}
	if !out.noReport {
		if err := out.writeResults(sum); err != nil {
			fmt.Fprintf(stdio.Err, "fuka: warning: %v\n", err)
		}
	}
	if dash != nil {
		dash.Publish(sum) // the final numbers, for anyone still watching
	}
	var jsonErr error
	if out.jsonOut != "" {
		if err := writeFileAtomic(out.jsonOut, sum.WriteJSON); err != nil {
			jsonErr = fmt.Errorf("--json-out: %w", err)
		}
	}
	switch out.format {
	case "json":
		// One line, so scripts can take the last line that starts with '{'.
		enc := json.NewEncoder(stdio.Out)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(sum); err != nil {
			return err
		}
	default:
		// The whole text is the summary's, so fuka report N prints it
		// again byte for byte.
		if err := sum.WriteText(stdio.Out); err != nil {
			return err
		}
	}
	if !out.noHistory {
		status := history.StatusCompleted
		switch {
		case interrupted:
			status = history.StatusInterrupted
		case allFailed != "":
			status = history.StatusAllFailed
		case sum.Degraded:
			status = history.StatusDegraded
		case res.Interrupted: // stopped by abort_when
			status = history.StatusInterrupted
		case failed:
			status = history.StatusFailedThresholds
		}
		created, err := saveRunNew(out.history, sum, status)
		if err != nil {
			// The results are printed (and in --json-out); only the
			// history entry is missing.
			fmt.Fprintf(stdio.Err, "fuka: warning: run not stored in history: %v\n", err)
		} else if created != "" && !out.quiet {
			// Said once, by the run that creates the file: the history
			// is kept on the user's disk without being asked for.
			fmt.Fprintf(stdio.Err, "fuka: run history started at %s (every run is stored there: fuka runs lists them, fuka compare A B compares two; --no-history leaves a run out)\n", created)
		}
	}
	for _, err := range out.closeSinks(sum) {
		fmt.Fprintf(stdio.Err, "fuka: warning: %v\n", err)
	}
	if out.notify != "" {
		nctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := output.Notify(nctx, out.notify, sum); err != nil {
			fmt.Fprintf(stdio.Err, "fuka: warning: --notify: %v\n", err)
		}
		cancel()
	}
	if jsonErr != nil {
		// The summary went to stdout above, so the run is not lost; the
		// non-zero exit tells CI that the file is.
		return jsonErr
	}
	// When several apply: interrupted, then every request failed, then a
	// lost worker, then thresholds (and abort_when).
	switch {
	case interrupted:
		return exitError{ExitInterrupted}
	case allFailed != "":
		if out.format != "text" { // the text summary on stdout has it already
			fmt.Fprintf(stdio.Err, "fuka: %s\n", allFailed)
		}
		return exitError{ExitAllFailed}
	case sum.Degraded:
		// A worker was lost (or left): the numbers miss its share. Also when
		// --on-worker-loss stop ended the run early.
		return exitError{ExitDegraded}
	case failed || res.Interrupted:
		return exitError{ExitThresholds}
	}
	return nil
}

// runEnd is why a run ended (a report.End* reason and its detail), and
// warnings the summary should carry about it.
type runEnd struct {
	reason, detail string
	warnings       []string
}

// endOf tells from the load and the result why the run ended; stopped says
// the dashboard's stop button was pressed.
func endOf(cfg *engine.Config, res *engine.Result, stopped bool) runEnd {
	switch {
	case res.DataExhausted:
		return runEnd{reason: report.EndDataExhausted}
	case res.Interrupted && stopped:
		return runEnd{reason: report.EndStopped}
	case res.Interrupted:
		return runEnd{reason: report.EndInterrupted}
	}
	if parts, ok := cfg.Work.(engine.Parts); ok {
		// Each part ran its own load to its end: a duration, or for a
		// closed part bounded by iterations, those.
		for _, p := range parts.Parts {
			if pl, ok := p.Load.(engine.Closed); ok && pl.Iterations > 0 {
				return runEnd{reason: report.EndIterations}
			}
		}
		return runEnd{reason: report.EndDuration}
	}
	if _, open := cfg.Load.(engine.Open); open {
		return runEnd{reason: report.EndDuration} // the schedule of starts ran out
	}
	l, _ := cfg.Load.(engine.Closed)
	early := l.Duration <= 0 || res.Elapsed < l.Duration
	switch {
	case l.Requests > 0 && early && res.Run != nil && res.Run.Total != nil && res.Run.Total.Requests >= l.Requests:
		return runEnd{reason: report.EndRequests}
	case l.Iterations > 0 && early:
		return runEnd{reason: report.EndIterations}
	case !early:
		return runEnd{reason: report.EndDuration}
	}
	return runEnd{reason: report.EndClientsDone}
}
