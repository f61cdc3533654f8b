package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
)

// outputs are the output and watch flags attack and run share: where the
// results go and what watches the target.
type outputs struct {
	run.Outputs
	watch run.Watch
}

// resultWords say what a command's results are called, for its flags'
// help: a run's summary and report, a capacity search's result.
type resultWords struct {
	summary, progress, report, folder string
	live                              bool // the run's live outputs and profiles (not a search's steps)
}

var (
	runWords = resultWords{summary: "summary", progress: "live progress", report: "report.html in the results folder",
		folder: "HTML report and summary.json", live: true}
	capacityWords = resultWords{summary: "result", progress: "per-step progress on stderr",
		report: "capacity.html in the results folder, $FUKA_RESULTS or fuka-results/NAME-TIME", folder: "HTML report and capacity.json"}
)

// addOutputFlags registers the output and watch flags attack, run and
// capacity share.
func addOutputFlags(fl *pflag.FlagSet, o *outputs, w resultWords) {
	fl.StringVarP(&o.Format, "output", "o", "text", w.summary+" format on stdout: text or json (one line)")
	fl.StringVar(&o.JSONOut, "json-out", "", "also write the JSON "+w.summary+" to `FILE`")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "no "+w.progress)
	if w.live {
		fl.StringVar(&o.Results, "results", "", "`DIR` for this run's files (report, summary, profiles); default $FUKA_RESULTS or fuka-results, /NAME-TIME")
		fl.StringArrayVar(&o.Out, "out", nil, "live metrics while running (repeatable): prometheus=127.0.0.1:9464, otlp=http://127.0.0.1:4318, prometheus-rw=URL[|options], csv=DIR (docs/outputs.md)")
		fl.StringVar(&o.RunID, "run-id", "", "the run_id label of the --out metrics; default the start time and 4 random hex digits")
		fl.StringVar(&o.CSVDir, "csv", "", "write timeline.csv, summary.csv (and resources.csv) into `DIR`")
		fl.StringVar(&o.Notify, "notify", "", "POST a short result message (Slack-compatible webhook JSON) to `URL` when the run ends")
	}
	fl.StringVar(&o.JUnit, "junit", "", "write a JUnit XML report to `FILE` for CI: a test case per threshold, check or SLO term (docs/ci.md)")
	fl.StringVar(&o.SummaryMD, "summary-md", "", "write a markdown summary to `FILE` (also appended to $GITHUB_STEP_SUMMARY when set)")
	fl.StringVar(&o.Report, "report", "", "write the HTML report to `FILE` (default: "+w.report+")")
	fl.BoolVar(&o.NoReport, "no-report", false, "write no results folder ("+w.folder+")")
	fl.StringVar(&o.Dashboard, "dashboard", "", "serve a live dashboard with a stop button on `ADDR`, e.g. 127.0.0.1:5665 (a token is required off loopback)")
	fl.StringVar(&o.DashToken, "dashboard-token", "", "token for --dashboard (required when it is not on loopback)")
	fl.StringVar(&o.History, "history", "", "run history database `FILE` (default: $XDG_DATA_HOME/fuka/history.db or ~/.local/share/fuka/history.db)")
	fl.BoolVar(&o.NoHistory, "no-history", false, "do not store this run in the history database")
	fl.StringArrayVar(&o.watch.MonitorFlags, "monitor", nil, "watch a source during the run (repeatable): local, process=NAME|PID, nginx=URL[,worker_connections=N,workers=N], postgres=DSN, redis=ADDR, prometheus=URL[|name,glob*], agent=HOST:PORT, kubernetes=NS/deployment=api,hpa=api")
	fl.StringVar(&o.watch.AgentTokenFile, "agent-token-file", "", "token `FILE` for --monitor agent=...")
	if w.live {
		fl.StringArrayVar(&o.watch.ProfileFlags, "profile", nil, "capture pprof profiles (repeatable): URL[,at=peak|60%|30s][,seconds=10][,kinds=cpu+heap+goroutine]")
	}
}

// phasesUsage is --phases' help (attack and run).
const phasesUsage = "report where each request's time goes: dns, connect, tls, time to first byte, transfer (p50/p99 per request name)"

// addRequestFlags registers the request flags; only says which commands
// they are for ("URL only: " where a plan sets its requests).
func addRequestFlags(fl *pflag.FlagSet, f *run.RequestFlags, only string) {
	fl.StringVarP(&f.Method, "method", "m", "GET", only+"HTTP method: "+strings.Join(client.Methods, " "))
	fl.StringArrayVarP(&f.Headers, "header", "H", nil, only+"request header 'Key: Value' (repeatable)")
	fl.StringVarP(&f.Body, "body", "b", "", only+"request body")
	fl.StringVar(&f.BodyFile, "body-file", "", only+"read the request body from `FILE`")
	fl.DurationVar(&f.Timeout, "timeout", 10*time.Second, only+"per-request timeout (connect to last byte)")
	fl.BoolVar(&f.Insecure, "insecure", false, "skip TLS certificate verification")
	fl.BoolVar(&f.HTTP2, "http2", false, "use HTTP/2 (h2 over TLS, h2c prior knowledge over http)")
	fl.StringVar(&f.Name, "name", "", only+"request name in results (default: METHOD path)")
	addConnFlags(fl, &f.ConnFlags)
}

// spec is the run of cfg with these outputs; src nil is a local run.
func (o *outputs) spec(stdio Stdio, cfg engine.Config, meta report.Meta, src run.Source, judges ...run.Judge) run.Spec {
	out := o.Outputs
	out.StepSummary = stdio.StepSummary
	return run.Spec{
		Config: cfg, Meta: meta, Source: src, Watch: o.watch, Judges: judges, Out: out,
		Stdout: stdio.Out, Stderr: stdio.Err, CPUs: stdio.CPUs,
		Loading: func() { readingInput.Store(false) }, // from here a signal stops the load gracefully
	}
}

// execute runs spec and turns its outcome into the exit code.
func execute(ctx context.Context, spec run.Spec) error {
	o, err := run.Run(ctx, spec)
	switch {
	case err != nil:
		return err
	case o.Err != nil:
		// The summary went to stdout, so the run is not lost; the
		// non-zero exit tells CI that the file is.
		return o.Err
	case o.Code != run.CodeOK:
		return exitError{o.Code}
	}
	return nil
}
