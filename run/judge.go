package run

import (
	"fmt"
	"strings"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/scenario"
	"github.com/fuka-load/fuka/threshold"
)

// PlanJudge judges a run of a plan: its thresholds on the final summary,
// its abort_when rules once a second, and why the run ended when the
// plan's data ran out.
type PlanJudge struct {
	plan     *Plan
	aborts   *abortWatch
	abortMsg string // the rule that fired, once one did
}

var (
	_ Judge     = (*PlanJudge)(nil)
	_ Explainer = (*PlanJudge)(nil)
)

// NewPlanJudge returns the judge of a compiled plan.
func NewPlanJudge(p *Plan) *PlanJudge {
	return &PlanJudge{plan: p, aborts: newAbortWatch(p.Aborts, p.Prog)}
}

// Tick evaluates the abort_when rules; the first that holds stops the run.
func (j *PlanJudge) Tick(_ time.Duration, p metrics.Point, run *metrics.Run) string {
	if msg, fire := j.aborts.tick(p, run); fire && j.abortMsg == "" {
		j.abortMsg = msg
		return msg
	}
	return ""
}

// Judge evaluates the thresholds on the summary (with the plan's scopes:
// scenarios, groups, checks); a fired abort_when rule fails the run too.
func (j *PlanJudge) Judge(sum *report.Summary, run *metrics.Run) bool {
	j.plan.Prog.FillScopes(sum, run)
	vals := j.plan.Prog.Values(sum, run)
	results, pass := threshold.EvalAll(j.plan.Thresholds, vals)
	for _, r := range results {
		sum.Thresholds = append(sum.Thresholds, report.ThresholdResult{Expr: r.Expr.String(), Pass: r.Pass, Detail: r.String()})
	}
	if j.abortMsg != "" {
		sum.Thresholds = append(sum.Thresholds, report.ThresholdResult{Expr: "abort_when", Pass: false, Detail: "✗ " + j.abortMsg})
		pass = false
	}
	return !pass
}

// maxInvalidShown bounds the warnings that say why requests were not sent.
const maxInvalidShown = 3

// ExplainEnd says when the plan's unique data ran out: the reason the run
// ended if nothing else ended it, else a warning that the load after that
// was less than planned.
func (j *PlanJudge) ExplainEnd(_ *engine.Result, end *End) {
	for _, e := range j.plan.Prog.ScriptErrors() {
		end.Warnings = append(end.Warnings, "script error: "+e)
	}
	if why := j.plan.Prog.InvalidReasons(); len(why) > 0 {
		pause := ""
		if !j.plan.Plan.Load.Open() {
			// Else a reader sees a handful of requests from many clients
			// over the whole run and suspects the load generator.
			pause = "; after each, its client ended the iteration and paused 1 s, so few requests were made"
		}
		if len(why) > maxInvalidShown { // a templated value makes each reason distinct
			why = append(why[:maxInvalidShown-1], fmt.Sprintf("%d more reasons", len(why)-maxInvalidShown+1))
		}
		for i, e := range why {
			if i == len(why)-1 {
				e += pause
			}
			end.Warnings = append(end.Warnings, "not sent (invalid): "+e)
		}
	}
	ran := strings.Join(j.plan.Prog.Exhausted(), ", ")
	switch {
	case ran == "":
	case end.Reason == report.EndDataExhausted || end.Reason == report.EndClientsDone:
		end.Reason, end.Detail = report.EndDataExhausted, ran
	default:
		end.Warnings = append(end.Warnings, "data ran out: "+ran+"; the clients that needed a row stopped, so the load after that was less than planned")
	}
}

// abortWatch evaluates abort_when rules once a second. Each rule reads the
// exact merge of the last rule.For of the run (at least one interval),
// with the values thresholds use (scenario.Program.WindowValues), and fires
// when its expression holds over that window.
type abortWatch struct {
	rules []AbortRule
	prog  *scenario.Program
	win   *metrics.Window
}

func newAbortWatch(rules []AbortRule, prog *scenario.Program) *abortWatch {
	n := 0
	for _, r := range rules {
		n = max(n, r.intervals())
	}
	w := &abortWatch{rules: rules, prog: prog}
	if n > 0 {
		w.win = metrics.NewWindow(n)
	}
	return w
}

// intervals is how many one-second intervals the rule's window spans.
func (r AbortRule) intervals() int {
	return max(1, int(r.For/time.Second))
}

// tick adds the interval just closed and returns the first rule that holds.
func (w *abortWatch) tick(p metrics.Point, run *metrics.Run) (string, bool) {
	if w.win == nil {
		return "", false
	}
	w.win.Add(p, run.Interval, run.IntervalChecks)
	for _, r := range w.rules {
		n := r.intervals()
		if w.win.Len() < n {
			continue
		}
		if res := r.Expr.Eval(w.prog.WindowValues(w.win, n)); res.Pass {
			return fmt.Sprintf("%s held for %v (%s)", r.Expr.String(), r.For, strings.TrimSpace(strings.TrimPrefix(res.String(), "✓"))), true
		}
	}
	return "", false
}
