package capacity

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/fuka-load/fuka/report"
)

// finish computes the answer, the bracket, the knee and the first limit
// from the steps. A superseded measurement (one measured again) counts for
// nothing: the last measurement of a rate decides.
func (rep *Report) finish(cfg Config) {
	byRate := deciding(rep.Steps)
	for _, s := range byRate {
		if s.Pass {
			rep.Answer, rep.Found = s.Rate, true
		}
	}
	var first *StepResult // the lowest failing step: the first limit hit
	for i := range byRate {
		s := &byRate[i]
		if s.Pass {
			continue
		}
		if first == nil {
			first = s
		}
		if s.Rate > rep.Answer && rep.FailedAt == 0 {
			rep.FailedAt = s.Rate
		}
	}
	if first != nil {
		rep.Limit, rep.LimitAt, rep.LimitWhy = first.Limit, first.Rate, first.Failed
		rep.LimitedBy = nil
		for _, f := range first.Limits {
			if f.Subject != report.SubjectLoad {
				rep.LimitedBy = append(rep.LimitedBy, f)
			}
		}
	}
	rep.Knee = FindKnee(rep.Steps)
	switch {
	case rep.Limit == LimitGenCPU:
		rep.LowerBound = true
		rep.Advice = fmt.Sprintf("fuka itself used %.0f%% CPU or more at %s/s, so the target may take more: the answer is a lower bound. Spread the load over more workers (fuka worker) or give fuka more CPUs, then search again.", cfg.MaxGenCPU, FormatRate(rep.LimitAt))
	case rep.Limit == LimitDropped:
		rep.LowerBound = true
		rep.Advice = fmt.Sprintf("at %s/s every client was busy and starts were dropped: the generator, not the SLO, stopped the search, so the answer is a lower bound. Raise --max-clients (or the plan's max_clients) and search again.", FormatRate(rep.LimitAt))
	case rep.Stopped == StopMax:
		rep.LowerBound = true
		rep.Advice = fmt.Sprintf("the target met the SLO at --max %s/s: its capacity is at least that. Raise --max to search further.", FormatRate(cfg.Max))
	case rep.Stopped == StopHard && rep.Found:
		rep.Advice = "the search stopped at a hard failure before reaching the requested precision: the capacity is between the answer and the failing rate."
	}
}

// deciding returns the steps that decide, sorted by rate: all but the
// superseded ones.
func deciding(steps []StepResult) []StepResult {
	var out []StepResult
	for _, s := range steps {
		if !s.Superseded {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b StepResult) int { return cmp.Compare(a.Rate, b.Rate) })
	return out
}

// FindKnee returns where p99 starts climbing for good (see [Knee]), from
// steps in any order; superseded steps and steps without requests are left
// out. It returns nil when latency never climbed so.
func FindKnee(steps []StepResult) *Knee {
	var data []StepResult
	for _, s := range deciding(steps) {
		if s.Requests > 0 {
			data = append(data, s)
		}
	}
	if len(data) < 2 {
		return nil
	}
	base := data[0]
	high := func(s StepResult) bool { return s.P99MS > 2*base.P99MS && s.P99MS-base.P99MS >= KneeFloorMS }
	knee := -1
	for i := len(data) - 1; i > 0 && high(data[i]); i-- {
		knee = i
	}
	if knee < 0 {
		return nil
	}
	k := data[knee]
	return &Knee{Rate: k.Rate, P99MS: k.P99MS, BaselineRate: base.Rate, BaselineP99MS: base.P99MS}
}

// WriteText writes the steps as a table, in the order they ran, then the
// answer with its evidence.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	const row = "%4s  %-11s  %8s  %10s  %8s  %8s  %7s  %7s  %7s  %10s  %s\n"
	fmt.Fprintf(&b, row, "step", "phase", "rate/s", "achieved/s", "p50", "p99", "errors", "dropped", "gen cpu", "target cpu", "result")
	for i, s := range rep.Steps {
		res := "pass"
		switch {
		case s.Superseded:
			res = "fail: " + s.Limit + ", measured again"
		case !s.Pass:
			res = "FAIL: " + s.Limit
		}
		fmt.Fprintf(&b, row, strconv.Itoa(i+1), s.Phase, FormatRate(s.Rate), fmt.Sprintf("%.1f", s.RPS), report.FormatMS(s.P50MS), report.FormatMS(s.P99MS),
			fmt.Sprintf("%.2f%%", s.ErrorRate*100), fmt.Sprintf("%.2f%%", s.DroppedRatio*100), pct(s.GenCPUPct), pct(s.TargetCPUPct), res)
	}
	fmt.Fprintf(&b, "\n  SLO        %s\n", strings.Join(rep.SLO, ", "))
	if rep.Found {
		a := rep.step(rep.Answer)
		fmt.Fprintf(&b, "  answer     %s/s", FormatRate(rep.Answer))
		if rep.LowerBound {
			b.WriteString(" (a lower bound)")
		}
		fmt.Fprintf(&b, ": the highest rate that met the SLO (p50 %s, p99 %s, errors %.2f%%, achieved %.1f/s)\n",
			report.FormatMS(a.P50MS), report.FormatMS(a.P99MS), a.ErrorRate*100, a.RPS)
	} else {
		fmt.Fprintf(&b, "  answer     none: even %s/s failed the SLO\n", FormatRate(rep.Min))
	}
	if rep.FailedAt > 0 {
		fmt.Fprintf(&b, "  failed at  %s/s: the capacity lies in [%s, %s)/s\n", FormatRate(rep.FailedAt), FormatRate(rep.Answer), FormatRate(rep.FailedAt))
	}
	if k := rep.Knee; k != nil {
		fmt.Fprintf(&b, "  knee       %s/s: p99 %s, over twice the %s at %s/s\n", FormatRate(k.Rate), report.FormatMS(k.P99MS), report.FormatMS(k.BaselineP99MS), FormatRate(k.BaselineRate))
	} else {
		b.WriteString("  knee       none: p99 never rose to twice its lowest-rate value\n")
	}
	if rep.Limit != "" {
		fmt.Fprintf(&b, "  limit      %s at %s/s: %s\n", rep.Limit, FormatRate(rep.LimitAt), strings.Join(rep.LimitWhy, "; "))
	}
	for i, f := range rep.LimitedBy {
		label := "           "
		if i == 0 {
			label = "limited by "
		}
		fmt.Fprintf(&b, "  %s%s\n", label, f.Summary)
	}
	fmt.Fprintf(&b, "  stopped    %s\n", rep.stoppedText())
	if rep.Advice != "" {
		fmt.Fprintf(&b, "  advice     %s\n", rep.Advice)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// step returns the step at rate (the last one measured there).
func (rep *Report) step(rate float64) StepResult {
	var r StepResult
	for _, s := range rep.Steps {
		if s.Rate == rate && !s.Superseded {
			r = s
		}
	}
	return r
}

func (rep *Report) stoppedText() string {
	switch rep.Stopped {
	case StopPrecision:
		return fmt.Sprintf("precision reached: %s/s failed within %g%% of %s/s", FormatRate(rep.FailedAt), rep.Precision*100, FormatRate(rep.Answer))
	case StopMax:
		return fmt.Sprintf("--max %s/s reached and met the SLO", FormatRate(rep.Max))
	case StopMinFailed:
		return fmt.Sprintf("the first step, --min %s/s, failed", FormatRate(rep.Min))
	case StopHard:
		return "hard failure (most requests failed, or every connection was refused): stopped early"
	case StopInterrupted:
		return "interrupted: the answer covers the steps measured so far"
	case StopError:
		return "a step could not run: the answer covers the steps measured so far"
	}
	return rep.Stopped
}

func pct(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", *p)
}
