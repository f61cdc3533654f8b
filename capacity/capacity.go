// Package capacity finds the highest open-model arrival rate a target
// sustains within an SLO ("p99 < 200ms, error_rate < 1%").
//
// The search is pure logic: measuring one step (running the load at a rate
// for a while and reducing what happened to a [Result]) is injected as a
// [Measure], so the search is tested against capacity functions and the CLI
// plugs in the engine. The search runs in two phases:
//
//	exponential:  Min, 2·Min, 4·Min, …  until a step fails (or Max passes)
//	binary:       between the last pass P and the first fail F, try (P+F)/2,
//	              keep whichever half still brackets the edge, until
//	              F − P ≤ Precision·P
//
//	 p99                                     × F (fail)
//	  │                                   ×
//	  │  SLO ─────────────────────────┼──────────
//	  │                         ×  ← knee
//	  │  ×     ×      ×     ×  P
//	  └───────────────────────────────────── rate
//
// The answer is P, the highest rate that passed; the capacity lies in
// [P, F), so the answer is at most Precision below it. Between steps the
// target gets Cooldown to drain its queues. A hard failure (more than half
// of the requests failing, or every connection refused) ends the search at
// once with what was found: the target is down or shedding, and pushing it
// further tells nothing more.
//
// A step passes when every SLO term holds, at most MaxDropped of its starts
// were dropped (the generator lacked free clients) and the generator's own
// CPU stayed below MaxGenCPU (when measured). The report names the first
// limit hit (the lowest failing rate's reason) and the knee, where p99
// starts climbing.
package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/threshold"
)

// Step is one load level of the search: a constant arrival rate, held.
type Step struct {
	Rate float64       // starts per second
	Hold time.Duration // how long the rate is held, warm-up included
}

// Measure runs the load at rate for hold and returns what was measured.
// It excludes its own warm-up (the CLI drops the first 20% of hold). An
// error ends the search; a cancelled ctx should return ctx's error.
type Measure func(ctx context.Context, rate float64, hold time.Duration) (Result, error)

// Result is what one step measured, after its warm-up.
type Result struct {
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	Requests  int64   `json:"requests"`
	ErrorRate float64 `json:"error_rate"`   // failed/requests, 0..1
	RPS       float64 `json:"achieved_rps"` // completed requests per second
	// Dropped counts starts that found no free client; DroppedRatio is
	// their share of the starts that were due.
	Dropped      int64   `json:"dropped"`
	DroppedRatio float64 `json:"dropped_ratio"`
	// GenCPUPct is the load generator's own CPU, in percent of all its
	// CPUs (100 = every core busy); nil when not measured.
	GenCPUPct *float64 `json:"generator_cpu_pct"`
	// TargetCPUPct is the target's CPU from a monitored series, as that
	// series reports it (see TargetCPUSeries); nil when not monitored.
	TargetCPUPct    *float64 `json:"target_cpu_pct"`
	TargetCPUSeries string   `json:"target_cpu_series,omitempty"`
	// Refused is set when every request of the step had its connection
	// refused: the target is not there.
	Refused bool `json:"refused,omitempty"`
	// Findings are what the step's own data says limited it (see the
	// findings package and docs/findings.md); absent when none.
	Findings []report.Finding `json:"findings,omitempty"`
	// Limits are the findings with the whole measured step in question
	// (findings.AnalyzeFrom), for a failing step's "limited by"; only in
	// process (the JSON has them in the report's limited_by).
	Limits []report.Finding `json:"-"`
	// Values, when set, is what the SLO is evaluated against (all metrics
	// and scopes of a run); otherwise the fields above are (p50, p99,
	// error_rate, rps, requests, failed, dropped).
	Values threshold.Values `json:"-"`
}

// Limits: why a step failed. The report's Limit is the one of the lowest
// failing rate.
const (
	LimitLatency = "latency"        // a latency SLO term failed
	LimitErrors  = "errors"         // an error_rate, failed or checks term failed, or a hard failure
	LimitDropped = "dropped starts" // the generator had no free client for some starts
	LimitGenCPU  = "generator CPU"  // fuka itself was at MaxGenCPU or above
	LimitSLO     = "slo"            // another SLO term (rps, requests) failed
)

// Why a search ended (Report.Stopped).
const (
	StopPrecision   = "precision"    // the last pass and first fail are within Precision
	StopMax         = "max"          // Max passed: the capacity is at least Max
	StopMinFailed   = "min failed"   // even Min failed the SLO
	StopHard        = "hard failure" // error_rate above HardErrorRate, or every connection refused
	StopInterrupted = "interrupted"  // the context was cancelled
	StopError       = "error"        // Measure failed
)

// Config says what to look for and how finely.
type Config struct {
	// SLO is what a step must meet; at least one term.
	SLO []*threshold.Expr
	// Min is the first rate tried (default 10/s); Max the highest, 0 for
	// no bound.
	Min, Max float64
	// Precision ends the search when the first fail is within this
	// fraction of the last pass (default 0.05).
	Precision float64
	// Hold is each step's length, warm-up included (default 30s).
	Hold time.Duration
	// Cooldown is the pause between steps (0: none).
	Cooldown time.Duration
	// MaxDropped is the share of starts a passing step may drop (default
	// 0.01); MaxGenCPU the generator CPU percent at which a step is the
	// generator's limit rather than the target's (default 90);
	// HardErrorRate the error rate that ends the search (default 0.5).
	MaxDropped, MaxGenCPU, HardErrorRate float64
	// Confirm is how many times a step that may have failed by chance is
	// measured again (0: never). Such a step failed on latency alone while
	// the target kept up with the rate (achieved at least KeepUp of it): a
	// stall of the host (GC, a noisy neighbour) looks like that, while a
	// saturated target falls behind the rate. The step passes if any
	// measurement passes; a stall rarely makes a saturated target pass.
	Confirm int
	// OnStep, if set, is called before each step (i counts from 0);
	// OnResult after it.
	OnStep   func(i int, s Step)
	OnResult func(i int, s StepResult)
}

// StepResult is one step as the report shows it.
type StepResult struct {
	Rate  float64 `json:"rate"`
	HoldS float64 `json:"hold_s"`
	Phase string  `json:"phase"` // "exponential" or "binary"
	Result
	Pass bool `json:"pass"`
	// Failed explains a failing step: the SLO terms that failed, as
	// "✗ p99 < 50ms (actual 81.0ms)", and the generator's own limits.
	Failed []string `json:"failed,omitempty"`
	Limit  string   `json:"limit,omitempty"` // see the Limit constants; "" for a pass
	Hard   bool     `json:"hard,omitempty"`  // a hard failure: the search stopped here
	// Retry numbers the re-measurements of a rate (0: the first), and
	// Superseded marks a failed measurement that was measured again: the
	// last measurement of a rate decides.
	Retry      int  `json:"retry,omitempty"`
	Superseded bool `json:"superseded,omitempty"`
	// Terms are the SLO's terms as evaluated on the step, in the SLO's
	// order: "✓ p99 < 200ms (actual 120.0ms)". Only in process (the CI
	// files); the JSON has the failed ones in Failed.
	Terms []string `json:"-"`
}

// KeepUp is the share of the rate a step must achieve for a latency failure
// to count as possibly transient (see Config.Confirm).
const KeepUp = 0.9

// Knee is where latency starts to climb for good: the lowest rate from which
// the p99 of every step at that rate or above is more than twice the p99 of
// the lowest-rate step (the baseline) and at least KneeFloorMS above it (so
// that microsecond jitter on a fast target is no knee). A lone spike below
// the knee, with lower latency again above it, is noise, not the knee.
type Knee struct {
	Rate          float64 `json:"rate"`
	P99MS         float64 `json:"p99_ms"`
	BaselineRate  float64 `json:"baseline_rate"`
	BaselineP99MS float64 `json:"baseline_p99_ms"`
}

// KneeFloorMS is the least p99 rise over the baseline that counts as a knee.
const KneeFloorMS = 1.0

// Report is the outcome of a search: the answer and its evidence.
type Report struct {
	SLO       []string `json:"slo"`
	Min       float64  `json:"min"`
	Max       float64  `json:"max"` // 0: no bound
	Precision float64  `json:"precision"`
	HoldS     float64  `json:"hold_s"`
	// Answer is the highest rate that passed (0 when none did), Found
	// whether one did, and FailedAt the lowest failing rate above it (0
	// when none): the capacity lies in [Answer, FailedAt).
	Answer   float64 `json:"answer"`
	Found    bool    `json:"found"`
	FailedAt float64 `json:"failed_at"`
	// LowerBound is set when the target may take more than Answer: the
	// generator ran out of CPU or clients, or Max passed.
	LowerBound bool     `json:"lower_bound"`
	Knee       *Knee    `json:"knee"`
	Limit      string   `json:"limit"`     // the first limit hit (lowest failing rate); "" when nothing failed
	LimitAt    float64  `json:"limit_at"`  // the rate of that step
	LimitWhy   []string `json:"limit_why"` // its evidence
	// LimitedBy is what the findings of that step say limited it: fuka's
	// own limits and the target's resources, the most telling first
	// (absent when they name none).
	LimitedBy []report.Finding `json:"limited_by,omitempty"`
	Advice    string           `json:"advice,omitempty"`
	Stopped   string           `json:"stopped"` // see the Stop constants
	Steps     []StepResult     `json:"steps"`
}

// ErrNoSLO is returned by Search for a Config without SLO terms.
var ErrNoSLO = errors.New("no SLO terms")

// withDefaults fills defaults and checks cfg.
func (c Config) withDefaults() (Config, error) {
	if len(c.SLO) == 0 {
		return c, ErrNoSLO
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Min, 10)
	def(&c.Precision, 0.05)
	def(&c.MaxDropped, 0.01)
	def(&c.MaxGenCPU, 90)
	def(&c.HardErrorRate, 0.5)
	if c.Hold == 0 {
		c.Hold = 30 * time.Second
	}
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	switch {
	case bad(c.Min) || c.Min == 0:
		return c, fmt.Errorf("min rate %v: must be > 0", c.Min)
	case bad(c.Max):
		return c, fmt.Errorf("max rate %v: must be >= 0", c.Max)
	case c.Max > 0 && c.Max < c.Min:
		return c, fmt.Errorf("max rate %v is below min rate %v", c.Max, c.Min)
	case bad(c.Precision) || c.Precision >= 1:
		return c, fmt.Errorf("precision %v: want a fraction between 0 and 1", c.Precision)
	case c.Hold < 0 || c.Cooldown < 0 || c.Confirm < 0:
		return c, errors.New("hold, cooldown and confirm must not be negative")
	}
	return c, nil
}

// Search finds the highest rate that meets cfg.SLO, measuring each step with
// measure. It returns the report of what was found even with an error
// (interrupted: ctx's error; or measure's), so that a long search is never
// lost.
func Search(ctx context.Context, cfg Config, measure Measure) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rep := &Report{Min: cfg.Min, Max: cfg.Max, Precision: cfg.Precision, HoldS: cfg.Hold.Seconds()}
	for _, e := range cfg.SLO {
		rep.SLO = append(rep.SLO, e.String())
	}
	s := searcher{cfg: cfg, measure: measure, rep: rep}
	err = s.run(ctx)
	rep.finish(cfg)
	return rep, err
}

type searcher struct {
	cfg     Config
	measure Measure
	rep     *Report
}

// run does both phases; it sets rep.Stopped.
func (s *searcher) run(ctx context.Context) error {
	var pass, fail float64 // last passing and first failing rate; 0: none yet
	rate := s.cfg.Min
	for {
		r, err := s.step(ctx, rate, "exponential")
		if err != nil {
			return err
		}
		if r.Hard {
			s.rep.Stopped = StopHard
			return nil
		}
		if !r.Pass {
			fail = rate
			break
		}
		pass = rate
		if s.cfg.Max > 0 && rate >= s.cfg.Max {
			s.rep.Stopped = StopMax
			return nil
		}
		rate *= 2
		if s.cfg.Max > 0 {
			rate = min(rate, s.cfg.Max)
		}
	}
	if pass == 0 {
		s.rep.Stopped = StopMinFailed
		return nil
	}
	for fail-pass > s.cfg.Precision*pass {
		mid := midpoint(pass, fail)
		r, err := s.step(ctx, mid, "binary")
		if err != nil {
			return err
		}
		if r.Hard {
			s.rep.Stopped = StopHard
			return nil
		}
		if r.Pass {
			pass = mid
		} else {
			fail = mid
		}
	}
	s.rep.Stopped = StopPrecision
	return nil
}

// step measures rate, again while its failure may be transient (see
// Config.Confirm), and returns the deciding measurement.
func (s *searcher) step(ctx context.Context, rate float64, phase string) (StepResult, error) {
	for retry := 0; ; retry++ {
		r, err := s.measureOnce(ctx, rate, phase, retry)
		if err != nil || r.Pass || retry >= s.cfg.Confirm || !r.transient(s.cfg) {
			return r, err
		}
		s.rep.Steps[len(s.rep.Steps)-1].Superseded = true
	}
}

// transient reports whether a failed step may have failed by chance: on
// latency alone, while the target kept up with the rate.
func (r StepResult) transient(c Config) bool {
	return !r.Pass && !r.Hard && r.Limit == LimitLatency && r.DroppedRatio <= c.MaxDropped && r.RPS >= KeepUp*r.Rate
}

// measureOnce waits out the cool-down, measures rate and judges the result.
func (s *searcher) measureOnce(ctx context.Context, rate float64, phase string, retry int) (StepResult, error) {
	i := len(s.rep.Steps)
	if i > 0 && s.cfg.Cooldown > 0 {
		t := time.NewTimer(s.cfg.Cooldown)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.rep.Stopped = StopInterrupted
			return StepResult{}, ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		s.rep.Stopped = StopInterrupted
		return StepResult{}, err
	}
	if s.cfg.OnStep != nil {
		s.cfg.OnStep(i, Step{Rate: rate, Hold: s.cfg.Hold})
	}
	res, err := s.measure(ctx, rate, s.cfg.Hold)
	if err != nil {
		s.rep.Stopped = StopError
		if ctx.Err() != nil {
			s.rep.Stopped = StopInterrupted
			return StepResult{}, err
		}
		return StepResult{}, fmt.Errorf("step %d (%s/s): %w", i+1, FormatRate(rate), err)
	}
	r := s.cfg.judge(rate, phase, res)
	r.Retry = retry
	s.rep.Steps = append(s.rep.Steps, r)
	if s.cfg.OnResult != nil {
		s.cfg.OnResult(i, r)
	}
	return r, nil
}

// judge decides whether a step passed and, if not, which limit it hit.
// Limits are checked from the one that invalidates the measurement most:
// the generator's CPU (the numbers describe fuka), a hard failure, the SLO's
// error terms, its latency terms, other terms, then dropped starts.
func (c *Config) judge(rate float64, phase string, res Result) StepResult {
	r := StepResult{Rate: rate, HoldS: c.Hold.Seconds(), Phase: phase, Result: res, Pass: true}
	r.Values = nil // not part of the report
	v := res.Values
	if v == nil {
		v = resultValues(res)
	}
	results, _ := threshold.EvalAll(c.SLO, v)
	for _, t := range results {
		r.Terms = append(r.Terms, t.String())
	}
	var limits []string
	if res.GenCPUPct != nil && *res.GenCPUPct >= c.MaxGenCPU {
		r.Failed = append(r.Failed, fmt.Sprintf("✗ generator CPU %.0f%% (at or above %.0f%%: the numbers describe fuka, not the target)", *res.GenCPUPct, c.MaxGenCPU))
		limits = append(limits, LimitGenCPU)
	}
	if res.Refused || (res.Requests > 0 && res.ErrorRate > c.HardErrorRate) {
		r.Hard = true
		why := fmt.Sprintf("✗ hard failure: error rate %.1f%% (above %.0f%%)", res.ErrorRate*100, c.HardErrorRate*100)
		if res.Refused {
			why = "✗ hard failure: every connection was refused"
		}
		r.Failed = append(r.Failed, why)
		limits = append(limits, LimitErrors)
	}
	var errs, lat, other bool
	for _, t := range results {
		if t.Pass {
			continue
		}
		r.Failed = append(r.Failed, t.String())
		switch t.Expr.Metric {
		case threshold.ErrorRate, threshold.Failed, threshold.Checks:
			errs = true
		case threshold.P50, threshold.P90, threshold.P95, threshold.P99, threshold.P999, threshold.Max, threshold.Min, threshold.Mean:
			lat = true
		default:
			other = true
		}
	}
	if errs {
		limits = append(limits, LimitErrors)
	}
	if lat {
		limits = append(limits, LimitLatency)
	}
	if other {
		limits = append(limits, LimitSLO)
	}
	if res.DroppedRatio > c.MaxDropped {
		r.Failed = append(r.Failed, fmt.Sprintf("✗ dropped starts %.2f%% (above %.2f%%: no free client for them)", res.DroppedRatio*100, c.MaxDropped*100))
		limits = append(limits, LimitDropped)
	}
	if len(limits) > 0 {
		r.Pass, r.Limit = false, limits[0]
	}
	return r
}

// resultValues adapts a Result's fields to threshold.Values.
func resultValues(r Result) threshold.Values {
	return threshold.ValuesFunc(func(scope, metric string) (float64, bool) {
		if scope != "" {
			return 0, false
		}
		switch metric {
		case threshold.P50:
			return r.P50MS, true
		case threshold.P99:
			return r.P99MS, true
		case threshold.ErrorRate:
			return r.ErrorRate, true
		case threshold.RPS:
			return r.RPS, true
		case threshold.Requests:
			return float64(r.Requests), true
		case threshold.Failed:
			return math.Round(r.ErrorRate * float64(r.Requests)), true
		case threshold.Dropped:
			return float64(r.Dropped), true
		}
		return 0, false
	})
}

// midpoint is the binary search's next rate: the middle of (lo, hi),
// rounded to three significant digits when that keeps it strictly inside,
// so that the steps read 480/s rather than 478.125/s.
func midpoint(lo, hi float64) float64 {
	m := (lo + hi) / 2
	if m <= 0 {
		return m
	}
	e := math.Pow(10, math.Floor(math.Log10(m))-2)
	if r := math.Round(m/e) * e; r > lo && r < hi {
		return r
	}
	return m
}

// FormatRate prints a rate without float noise: 400, 12.5, 0.75.
func FormatRate(r float64) string {
	if r >= 100 {
		return strconv.FormatFloat(math.Round(r), 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(r*1000)/1000, 'f', -1, 64)
}
