package run

import (
	"fmt"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/report"
)

// Exit codes of a run (Outcome.Code); the command line exits with them.
const (
	CodeOK          = 0
	CodeFailed      = 1 // a threshold failed or an abort_when rule fired
	CodeAllFailed   = 3 // every request failed: nothing measured but the failure
	CodeDegraded    = 4 // a distributed run lost a worker: the results miss its share
	CodeInterrupted = 130
)

// End is why a run ended (a report.End* reason and its detail), and
// warnings the summary should carry about it.
type End struct {
	Reason, Detail string
	Warnings       []string
}

// Explainer is a Judge that refines why the run ended with what only it
// knows (the data that ran out), and may add warnings for the summary.
type Explainer interface {
	ExplainEnd(res *engine.Result, end *End)
}

// endOf tells from the load and the result why the run ended; stopped says
// the dashboard's stop button was pressed.
func endOf(cfg *engine.Config, res *engine.Result, stopped bool) End {
	switch {
	case res.DataExhausted:
		return End{Reason: report.EndDataExhausted}
	case res.Interrupted && stopped:
		return End{Reason: report.EndStopped}
	case res.Interrupted:
		return End{Reason: report.EndInterrupted}
	}
	if parts, ok := cfg.Work.(engine.Parts); ok {
		// Each part ran its own load to its end: a duration, or for a
		// closed part bounded by iterations, those.
		for _, p := range parts.Parts {
			if pl, ok := p.Load.(engine.Closed); ok && pl.Iterations > 0 {
				return End{Reason: report.EndIterations}
			}
		}
		return End{Reason: report.EndDuration}
	}
	if _, open := cfg.Load.(engine.Open); open {
		return End{Reason: report.EndDuration} // the schedule of starts ran out
	}
	l, _ := cfg.Load.(engine.Closed)
	early := l.Duration <= 0 || res.Elapsed < l.Duration
	switch {
	case l.Requests > 0 && early && res.Run != nil && res.Run.Total != nil && res.Run.Total.Requests >= l.Requests:
		return End{Reason: report.EndRequests}
	case l.Iterations > 0 && early:
		return End{Reason: report.EndIterations}
	case !early:
		return End{Reason: report.EndDuration}
	}
	return End{Reason: report.EndClientsDone}
}

// verdict is what the end of a run says about it.
type verdict struct {
	interrupted  bool   // the user stopped it (Ctrl-C, the stop button)
	allFailed    string // every request failed: why, else ""
	degraded     bool   // a worker was lost or left
	stoppedEarly bool   // the load was cut short without the user (abort_when)
	failed       bool   // a judge failed the run (thresholds)
}

// judgeEnd tells the verdict: interrupted unless an abort_when rule stopped
// it, or --on-worker-loss stop did (a degraded run, unless the user
// stopped it too).
func judgeEnd(res *engine.Result, end End, userStop bool, sum *report.Summary, failed bool) verdict {
	v := verdict{degraded: sum.Degraded, failed: failed}
	v.interrupted = res.Interrupted && end.Reason != report.EndAbortWhen && (userStop || !sum.Degraded)
	v.stoppedEarly = res.Interrupted && !v.interrupted
	if !v.interrupted {
		v.allFailed = sum.AllFailed()
	}
	return v
}

// code is the exit code; when several apply: interrupted, then every
// request failed, then a lost worker, then thresholds (and abort_when).
func (v verdict) code() int {
	switch {
	case v.interrupted:
		return CodeInterrupted
	case v.allFailed != "":
		return CodeAllFailed
	case v.degraded:
		// A worker was lost (or left): the numbers miss its share. Also
		// when --on-worker-loss stop ended the run early.
		return CodeDegraded
	case v.failed || v.stoppedEarly:
		return CodeFailed
	}
	return CodeOK
}

// status is the run's status in the history, in the same precedence.
func (v verdict) status() string {
	switch {
	case v.interrupted:
		return history.StatusInterrupted
	case v.allFailed != "":
		return history.StatusAllFailed
	case v.degraded:
		return history.StatusDegraded
	case v.stoppedEarly: // by abort_when
		return history.StatusInterrupted
	case v.failed:
		return history.StatusFailedThresholds
	}
	return history.StatusCompleted
}

// why says in one line why the run did not pass ("" when it did), for the
// CI files (report.Verdict), in the same precedence as code.
func (v verdict) why(sum *report.Summary) string {
	switch {
	case v.interrupted:
		took, planned := time.Duration(sum.DurationS*float64(time.Second)), time.Duration(sum.PlannedDurationS*float64(time.Second))
		if end := report.EndText(sum.EndReason, sum.EndDetail, took, planned); end != "" {
			return "interrupted: the run ended " + end
		}
		return "interrupted after " + report.FormatSeconds(sum.DurationS)
	case v.allFailed != "":
		return v.allFailed
	case v.degraded:
		return "degraded: a worker was lost or left, so the results miss its share of the load"
	case v.stoppedEarly:
		return "stopped early by abort_when: " + sum.EndDetail
	case v.failed:
		failed := 0
		for _, t := range sum.Thresholds {
			if !t.Pass {
				failed++
			}
		}
		return fmt.Sprintf("%d of %d thresholds failed", failed, len(sum.Thresholds))
	}
	return ""
}
