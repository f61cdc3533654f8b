package cli

import (
	"context"

	"github.com/spf13/pflag"

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

// addOutputFlags registers the flags attack and run share.
func addOutputFlags(fl *pflag.FlagSet, o *outputs) {
	fl.StringVarP(&o.Format, "output", "o", "text", "summary format on stdout: text or json (one line)")
	fl.StringVar(&o.JSONOut, "json-out", "", "also write the JSON summary to `FILE`")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "no live progress")
	fl.StringVar(&o.Results, "results", "", "`DIR` for this run's files (report, summary, profiles); default $FUKA_RESULTS or fuka-results, /NAME-TIME")
	fl.StringArrayVar(&o.Out, "out", nil, "live metrics while running (repeatable): prometheus=127.0.0.1:9464, otlp=http://127.0.0.1:4318, csv=DIR")
	fl.StringVar(&o.CSVDir, "csv", "", "write timeline.csv, summary.csv (and resources.csv) into `DIR`")
	fl.StringVar(&o.Notify, "notify", "", "POST a short result message (Slack-compatible webhook JSON) to `URL` when the run ends")
	fl.StringVar(&o.Report, "report", "", "write the HTML report to `FILE` (default: report.html in the results folder)")
	fl.BoolVar(&o.NoReport, "no-report", false, "write no results folder (HTML report and summary.json)")
	fl.StringVar(&o.Dashboard, "dashboard", "", "serve a live dashboard with a stop button on `ADDR`, e.g. 127.0.0.1:5665 (a token is required off loopback)")
	fl.StringVar(&o.DashToken, "dashboard-token", "", "token for --dashboard (required when it is not on loopback)")
	fl.StringVar(&o.History, "history", "", "run history database `FILE` (default: $XDG_DATA_HOME/fuka/history.db or ~/.local/share/fuka/history.db)")
	fl.BoolVar(&o.NoHistory, "no-history", false, "do not store this run in the history database")
	fl.StringArrayVar(&o.watch.MonitorFlags, "monitor", nil, "watch a source during the run (repeatable): local, process=NAME|PID, nginx=URL, postgres=DSN, redis=ADDR, prometheus=URL[|name,glob*], agent=HOST:PORT, kubernetes=NS/deployment=api,hpa=api")
	fl.StringVar(&o.watch.AgentTokenFile, "agent-token-file", "", "token `FILE` for --monitor agent=...")
	fl.StringArrayVar(&o.watch.ProfileFlags, "profile", nil, "capture pprof profiles (repeatable): URL[,at=peak|60%|30s][,seconds=10][,kinds=cpu+heap+goroutine]")
}

// spec is the run of cfg with these outputs; src nil is a local run.
func (o *outputs) spec(stdio Stdio, cfg engine.Config, meta report.Meta, src run.Source, judges ...run.Judge) run.Spec {
	return run.Spec{
		Config: cfg, Meta: meta, Source: src, Watch: o.watch, Judges: judges, Out: o.Outputs,
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
