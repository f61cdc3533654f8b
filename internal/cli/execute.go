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
	"time"

	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/dashboard"
	"github.com/fuka-load/fuka/engine"
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
	// runLoad, if set, runs the load instead of engine.Run in this process:
	// a distributed run's controller merges its workers' results
	// (cluster_run.go). Everything after it is the same for both.
	runLoad func(ctx context.Context, cfg engine.Config) (*engine.Result, error)

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
	fl.StringVar(&o.jsonOut, "json-out", "", "also write the JSON summary to this file")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "no live progress")
	fl.StringVar(&o.results, "results", "", "folder for this run's files (report, summary, profiles); default $FUKA_RESULTS or fuka-results, /NAME-TIME")
	fl.StringArrayVar(&o.outFlags, "out", nil, "live metrics while running (repeatable): prometheus=127.0.0.1:9464, otlp=http://127.0.0.1:4318, csv=DIR")
	fl.StringVar(&o.csvDir, "csv", "", "write timeline.csv, summary.csv (and resources.csv) into this folder")
	fl.StringVar(&o.notify, "notify", "", "POST a short result message (Slack-compatible webhook JSON) to this URL when the run ends")
	fl.StringVar(&o.reportOut, "report", "", "write the HTML report here (default: report.html in the results folder)")
	fl.BoolVar(&o.noReport, "no-report", false, "write no results folder (HTML report and summary.json)")
	fl.StringVar(&o.dashAddr, "dashboard", "", "serve a live dashboard with a stop button, e.g. 127.0.0.1:5665 (a token is required off loopback)")
	fl.StringVar(&o.dashToken, "dashboard-token", "", "token for --dashboard (required when it is not on loopback)")
	fl.StringVar(&o.history, "history", "", "run history database (default: $XDG_DATA_HOME/fuka/history.db or ~/.local/share/fuka/history.db)")
	fl.BoolVar(&o.noHistory, "no-history", false, "do not store this run in the history database")
	fl.StringArrayVar(&o.monitorFlags, "monitor", nil, "watch a source during the run (repeatable): local, process=NAME|PID, nginx=URL, postgres=DSN, redis=ADDR, prometheus=URL[|name,glob*], agent=HOST:PORT, kubernetes=NS/deployment=api,hpa=api")
	fl.StringVar(&o.agentToken, "agent-token-file", "", "token file for --monitor agent=...")
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
	// Fix: these trial samplers were dropped unclosed, and a postgres one
	// holds a pool with a goroutine of its own; startWatch builds the
	// samplers the run uses.
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
	// Fix: runs started in the same second got the same folder, and the
	// later one overwrote the earlier one's report and summary. The folder
	// is now made here, new: NAME-TIME, else NAME-TIME-2, -3, ...
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
// JSON summary next to it) and returns the report's path.
func (o *outputs) writeResults(sum *report.Summary) (string, error) {
	path := o.reportOut
	if path == "" {
		dir, err := o.resultsDir(sum.Name, sum.Started)
		if err != nil {
			return "", err
		}
		path = filepath.Join(dir, "report.html")
		if err := writeFileAtomic(filepath.Join(dir, "summary.json"), sum.WriteJSON); err != nil {
			return "", err
		}
	}
	if err := writeFileAtomic(path, func(w io.Writer) error { return html.Write(w, sum) }); err != nil {
		return "", fmt.Errorf("--report: %w", err)
	}
	return path, nil
}

// writeFileAtomic writes through a temporary file in the same folder, so a
// failed write never leaves half a report.
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
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// execute runs cfg with live progress and writes the summary. An interrupted
// run still writes everything it measured and exits 130.
func execute(ctx context.Context, stdio Stdio, cfg engine.Config, meta report.Meta, out outputs) error {
	if err := out.prepare(); err != nil {
		return err
	}
	// Fix: the sinks are open from prepare on (a Prometheus endpoint
	// listens), and an error found after it (--dashboard, --json-out, a
	// failing encode) returned without closing them. closeSinks empties
	// out.sinks, so after the normal close this does nothing.
	defer out.closeSinks(nil)
	var dash *dashboard.Server
	if out.dashAddr != "" {
		// The stop button ends the run the way Ctrl-C does: scheduling
		// stops, in-flight requests finish, the report is complete.
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		d, err := dashboard.New(out.dashAddr, out.dashToken, stop)
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
	var jsonFile *os.File
	if out.jsonOut != "" {
		// Open the file before the run: a bad path is an input error found
		// in a second, not after a long run.
		if dir := filepath.Dir(out.jsonOut); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("--json-out: %w", err)
			}
		}
		f, err := os.Create(out.jsonOut)
		if err != nil {
			return fmt.Errorf("--json-out: %w", err)
		}
		defer f.Close()
		jsonFile = f
	}
	meta.Started = time.Now()
	log := slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	peak := peakOf(cfg.Rate, cfg.RampUp)
	wt, err := startWatch(ctx, out.watch, meta.Started, meta.Planned, peak,
		func() (string, error) { return out.resultsDir(meta.Name, meta.Started) }, log)
	if err != nil {
		return err
	}
	if cfg.Loops == 0 {
		cfg.Loops = stdio.cpus()
	}
	runLoad := engine.Run
	if out.runLoad != nil {
		runLoad = out.runLoad // distributed: the workers send the load (cluster_run.go)
	}
	res, err := runLoad(ctx, cfg)
	wt.stop()
	if prog != nil {
		prog.Done()
	}
	if err != nil {
		out.closeSinks(nil)
		return err
	}
	meta.Elapsed, meta.Scheduled, meta.Interrupted = res.Elapsed, res.Scheduled, res.Interrupted
	if meta.Model == report.ModelOpen {
		meta.Clients = res.PeakClients
	}
	sum := report.NewSummary(meta, res.Run)
	wt.fill(sum, stdio.cpus())
	failed := false
	if out.judge != nil {
		failed = out.judge(sum, res.Run)
	}
	var resultsNote string
	if !out.noReport {
		if p, err := out.writeResults(sum); err != nil {
			fmt.Fprintf(stdio.Err, "fuka: warning: %v\n", err)
		} else {
			resultsNote = p
		}
	}
	if dash != nil {
		dash.Publish(sum) // the final numbers, for anyone still watching
	}
	var jsonErr error
	if jsonFile != nil {
		if err := sum.WriteJSON(jsonFile); err != nil {
			jsonErr = fmt.Errorf("--json-out: %w", err)
		} else if err := jsonFile.Close(); err != nil {
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
		if err := sum.WriteText(stdio.Out); err != nil {
			return err
		}
		writeResources(stdio.Out, sum)
		if resultsNote != "" {
			fmt.Fprintf(stdio.Out, "  report       %s\n", resultsNote)
		}
		if cfg.HTTP2 || res.Transport != "fast" {
			fmt.Fprintf(stdio.Out, "  transport    %s\n", res.Transport)
		}
	}
	if !out.noHistory {
		status := "completed"
		switch {
		case res.Interrupted:
			status = "interrupted"
		case failed:
			status = "failed_thresholds"
		}
		if _, err := SaveRun(out.history, sum, status); err != nil {
			// The results are printed (and in --json-out); only the
			// history entry is missing.
			fmt.Fprintf(stdio.Err, "fuka: warning: run not stored in history: %v\n", err)
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
	if res.Interrupted {
		return exitError{ExitInterrupted}
	}
	if failed {
		return exitError{ExitThresholds}
	}
	return nil
}
