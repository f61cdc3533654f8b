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
	"io"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
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
}

// Source runs a load: this process's engine (Local) or workers (a cluster).
type Source interface {
	// Load runs cfg and returns what it measured. It calls started once
	// with the load's t=0 (the first intended start) before the first
	// start: the watchers' clock.
	Load(ctx context.Context, cfg engine.Config, started func(t0 time.Time)) (*engine.Result, error)
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
	Summary *report.Summary
	Result  *engine.Result
	// Code is the run's exit code: 0 ok, 1 thresholds or abort_when, 3
	// every request failed, 4 degraded distributed run, 130 interrupted
	// (in that precedence: 130, 3, 4, 1).
	Code int
	// Err is a results file that could not be written (--json-out): the
	// summary was printed, but the run must not exit 0.
	Err error
}

// Watch is what to monitor and profile during a run (the fields come with
// internal/cli/watch.go's move here).
type Watch struct{}

// Outputs says where the results go (the fields come with
// internal/cli/execute.go's move here).
type Outputs struct{}
