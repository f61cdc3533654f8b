// Package findings reads a run's own data — its per-second load timeline,
// the monitored resources on the same time axis, the profiles and fuka's
// own CPU — and says what limited the load and when, with the series,
// times and values each finding rests on.
//
// The "when" comes from the load: the knee (throughput stops following the
// requested load, or p99 climbs for good), the onset of errors, dropped
// starts, scale-outs. The "what" comes from the resources at that moment,
// each compared with its limit (a CPU at 90 % busy, PostgreSQL's
// connections at max_connections, a listen queue that overflowed), ranked
// by how direct the evidence is and how much of the time it held. A
// resource finding needs a symptom in the load: a healthy run has none.
// Only fuka's own numbers (its CPU, its dropped starts) make a finding
// that says who was the limit — "fuka was the limit"; every other finding
// is worded as what it is, a correlation.
//
// Analyze is a pure function of the summary: the same data, the same
// findings. docs/findings.md describes every kind.
package findings

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/report"
)

// Generator is what fuka measured of itself while it made the load.
type Generator struct {
	CPUs int      // the CPUs fuka may use (100 % each)
	CPU  []Sample // its own CPU per second, 100 = one core busy; nil when not sampled
	// Wait is how long its threads waited on a run queue per second (100
	// = one thread the whole second): runnable, but no CPU to run on.
	Wait []Sample
}

// Sample is one value of a series at TS seconds from the load's start.
type Sample struct{ TS, V float64 }

// The thresholds the findings use. They are variables only so that the
// docs and the tests can name them; Analyze never changes them.
const (
	// KneeShortfall: throughput stops following the requested load when an
	// interval serves less than this share of what was due...
	KneeShortfall = 0.8
	// KneeHold: ...and most (KneeHoldShare) of the later intervals stay
	// under this share.
	KneeHold      = 0.9
	KneeHoldShare = 0.75
	// ClimbFactor and ClimbMinMS: p99 climbs when it reaches this many
	// times its baseline and at least ClimbMinMS above it, and then stays
	// at ClimbHoldFactor times the baseline in most later intervals.
	ClimbFactor     = 3.0
	ClimbMinMS      = 10.0
	ClimbHoldFactor = 2.0
	// GeneratorBusyPct: fuka's own CPU, in % of the CPUs it may use, at
	// which the generator was the limit; or, while the load showed a
	// symptom, its CPU and its wait for a CPU together, when the wait was
	// at least GeneratorWaitPct.
	GeneratorBusyPct = 90.0
	GeneratorWaitPct = 50.0
	// MinDue: an interval with fewer due requests is too small to judge
	// throughput by.
	MinDue = 5.0
)

// Analyze returns the findings of a run, the most telling first: what
// limited the load (fuka itself, then the target's resources by score),
// then the load's own changes in time order. nil when there are none.
func Analyze(s *report.Summary, g Generator) []report.Finding {
	if s == nil {
		return nil
	}
	tl := fullIntervals(s.Timeline)
	a := &analysis{s: s, tl: tl, gen: g}
	a.loadEvents()
	a.generator()
	if a.symptomAt >= 0 {
		a.resources()
		a.profiles()
	}
	return a.sorted()
}

// AnalyzeFrom is Analyze with the seconds in question given: from from
// (seconds from the start) to the end, named what (e.g. "the step at
// 75/s"). fuka capacity asks it of a step that failed its SLO: the whole
// measured step is in question, whatever its timeline shows.
func AnalyzeFrom(s *report.Summary, g Generator, from float64, what string) []report.Finding {
	if s == nil {
		return nil
	}
	a := &analysis{s: s, tl: fullIntervals(s.Timeline), gen: g}
	a.loadEvents()
	a.symptomAt, a.symptom, a.changed = from, what, true
	a.generator()
	a.resources()
	a.profiles()
	return a.sorted()
}

type analysis struct {
	s   *report.Summary
	tl  []report.Interval
	gen Generator

	// symptomAt is the start of the seconds in question: the first
	// symptom in the load (knee, p99 climb, errors, drops), or, in a
	// closed-model run without a cap (which asks for all the target can
	// give), the start of the run after its ramp-up; -1 when the load was
	// served as asked.
	symptomAt float64
	symptom   string // "the knee at 12s", for the findings' wording
	changed   bool   // the load itself showed a symptom (not only a closed model's whole run)
	climbed   bool   // p99 climbed for good
	limits    []report.Finding
	events    []report.Finding
	idx       map[string]*series // the resource series, by name (see index)
}

// fullIntervals drops the last interval when it is a partial one (its
// rate and percentiles rest on a few milliseconds).
func fullIntervals(tl []report.Interval) []report.Interval {
	if n := len(tl); n > 1 && tl[n-1].SpanS < 0.5 {
		return tl[:n-1]
	}
	return tl
}

// loadEvents finds the load's own changes: the knee, the p99 climb, error
// onset, dropped starts and scale-outs; and sets symptomAt.
func (a *analysis) loadEvents() {
	a.symptomAt = -1
	first := func(at float64, what string) {
		if a.symptomAt < 0 || at < a.symptomAt {
			a.symptomAt, a.symptom = at, what
		}
	}
	if f, ok := a.throughputKnee(); ok {
		a.events = append(a.events, f)
		first(f.AtS, "the knee at "+secs(f.AtS))
	}
	if f, ok := a.p99Climb(); ok {
		a.climbed = true
		a.events = append(a.events, f)
		first(f.AtS, "the p99 climb at "+secs(f.AtS))
	}
	if f, ok := a.errorOnset(); ok {
		a.events = append(a.events, f)
		first(f.AtS, "the errors from "+secs(f.AtS))
	}
	if f, ok := a.droppedStarts(); ok {
		a.events = append(a.events, f)
		first(f.AtS, "the dropped starts from "+secs(f.AtS))
	}
	for _, e := range a.s.Scaling {
		a.events = append(a.events, scaleOut(e))
	}
	a.changed = a.symptomAt >= 0
	if a.symptomAt < 0 && a.s.Model == report.ModelClosed && a.s.RequestedRPS == nil && len(a.tl) > 0 {
		// As many requests as the clients can send: something always
		// limits such a run, and the whole run (after the ramp-up) is
		// the time in question.
		start := a.tl[0].TS - a.tl[0].SpanS
		for _, iv := range a.tl {
			if iv.TS-iv.SpanS >= a.s.RampUpS {
				start = iv.TS - iv.SpanS
				break
			}
		}
		a.symptomAt, a.symptom = start, "the run's throughput, which a closed model without a cap raises to all the target gives"
	}
}

// due returns the requests due in each interval, by the open model's rate
// profile or the closed model's cap; nil when the load asked for no rate.
// The open model's rate is of starts: perStart scales it to requests.
func (a *analysis) due() []float64 {
	s := a.s
	switch {
	case s.Model == report.ModelOpen && s.RateProfile != "" && s.PlannedDurationS > 0:
		r, err := load.ParseRate(s.RateProfile, time.Duration(s.PlannedDurationS*float64(time.Second)))
		if err != nil {
			return nil
		}
		out := make([]float64, len(a.tl))
		for i, iv := range a.tl {
			to := time.Duration(iv.TS * float64(time.Second))
			from := time.Duration((iv.TS - iv.SpanS) * float64(time.Second))
			out[i] = r.Expected(to) - r.Expected(from)
		}
		return out
	case s.RequestedRPS != nil && *s.RequestedRPS > 0:
		out := make([]float64, len(a.tl))
		for i, iv := range a.tl {
			out[i] = *s.RequestedRPS * iv.SpanS
		}
		return out
	}
	return nil
}

// throughputKnee is the first interval from which the load was served at
// less than KneeShortfall of what was due, and stayed under KneeHold in
// most of the later ones.
func (a *analysis) throughputKnee() (report.Finding, bool) {
	due := a.due()
	if due == nil {
		return report.Finding{}, false
	}
	// A plan's start may make several requests: the first judged
	// intervals say how many, unless the target fell behind at once.
	perStart := 1.0
	if a.s.Model == report.ModelOpen && a.s.Name != "" {
		var ratios []float64
		for i, iv := range a.tl {
			if due[i] >= MinDue && len(ratios) < 3 {
				ratios = append(ratios, float64(iv.Requests)/due[i])
			}
		}
		if len(ratios) > 0 {
			perStart = max(1, median(ratios))
		}
	}
	// Served is answered without failing: a timeout or a 503 is not the
	// load followed.
	served := func(i int) float64 { return float64(a.tl[i].Requests - a.tl[i].Failed) }
	ratio := func(i int) float64 { return served(i) / (due[i] * perStart) }
	for i := range a.tl {
		if due[i] < MinDue || ratio(i) >= KneeShortfall {
			continue
		}
		held, n := 0, 0
		for j := i; j < len(a.tl); j++ {
			if due[j] < MinDue {
				continue
			}
			n++
			if ratio(j) < KneeHold {
				held++
			}
		}
		if n < 2 || float64(held) < KneeHoldShare*float64(n) {
			continue
		}
		at := a.tl[i].TS - a.tl[i].SpanS
		var asked, ok, span float64
		for j := i; j < len(a.tl); j++ {
			if due[j] < MinDue {
				continue // after the schedule (the last responses) or too small to say
			}
			asked += due[j] * perStart
			ok += served(j)
			span += a.tl[j].SpanS
		}
		ev := report.Evidence{Series: "rps", FromS: round3(at), ToS: a.tl[len(a.tl)-1].TS}
		ev.Peak, ev.Mean = peakMean(a.tl[i:], func(iv report.Interval) (float64, bool) { return iv.RPS, true }) // the chart's throughput
		lim := round3(asked / span)
		ev.Limit = &lim
		what := "requests"
		if a.s.Model == report.ModelOpen && perStart == 1 && a.s.Name == "" {
			what = "starts"
		}
		return report.Finding{
			Kind: "knee", Subject: report.SubjectLoad, AtS: round3(at), Confidence: report.ConfidenceMeasured,
			Summary: fmt.Sprintf("the knee: from %s throughput stopped following the requested load: %s %s/s asked, %s/s served without error (%s)",
				secs(at), report.FormatRate(asked/span), what, report.FormatRate(ok/span), report.FormatPercent(ok, asked, 0)),
			Evidence: []report.Evidence{ev}, Chart: report.ChartAnchor("rps"),
		}, true
	}
	return report.Finding{}, false
}

// p99Climb is the first interval whose p99 reached ClimbFactor times the
// baseline (the median of the first intervals) and ClimbMinMS above it,
// after which it stayed above ClimbHoldFactor times the baseline.
func (a *analysis) p99Climb() (report.Finding, bool) {
	var idx []int
	for i, iv := range a.tl {
		if iv.P99MS != nil && iv.Requests > 0 {
			idx = append(idx, i)
		}
	}
	nb := min(3, len(idx)/4)
	if nb < 1 || len(idx)-nb < 2 {
		return report.Finding{}, false
	}
	base := make([]float64, nb)
	for k := range nb {
		base[k] = *a.tl[idx[k]].P99MS
	}
	b := median(base)
	high := max(ClimbFactor*b, b+ClimbMinMS)
	hold := max(ClimbHoldFactor*b, b+ClimbMinMS/2)
	for k := nb; k < len(idx); k++ {
		if *a.tl[idx[k]].P99MS < high {
			continue
		}
		held := 0
		for _, j := range idx[k:] {
			if *a.tl[j].P99MS >= hold {
				held++
			}
		}
		rest := len(idx) - k
		if rest < 2 || float64(held) < KneeHoldShare*float64(rest) {
			continue
		}
		iv := a.tl[idx[k]]
		at := iv.TS - iv.SpanS
		ev := report.Evidence{Series: "latency", FromS: round3(at), ToS: a.tl[len(a.tl)-1].TS}
		ev.Peak, ev.Mean = peakMean(a.tl[idx[k]:], func(iv report.Interval) (float64, bool) {
			if iv.P99MS == nil {
				return 0, false
			}
			return *iv.P99MS, true
		})
		bl := round3(b)
		ev.Limit = &bl
		return report.Finding{
			Kind: "p99_climb", Subject: report.SubjectLoad, AtS: round3(at), Confidence: report.ConfidenceMeasured,
			Summary: fmt.Sprintf("p99 climbed for good from %s: %s in the first seconds, %s then, up to %s",
				secs(at), report.FormatMS(b), report.FormatMS(*iv.P99MS), report.FormatMS(ev.Peak)),
			Evidence: []report.Evidence{ev}, Chart: report.ChartAnchor("latency"),
		}, true
	}
	return report.Finding{}, false
}

// errorOnset is the first interval with failed requests.
func (a *analysis) errorOnset() (report.Finding, bool) {
	if a.s.Failed == 0 {
		return report.Finding{}, false
	}
	// The counts take in the last, partial interval that a.tl leaves out
	// (its requests are few but real), so they add up to the summary's
	// totals; only the peak and mean, rates per interval, keep to the
	// full ones.
	tl := a.s.Timeline
	for i, iv := range tl {
		if iv.Failed == 0 {
			continue
		}
		at := iv.TS - iv.SpanS
		var failed, reqs int64
		for _, r := range tl[i:] {
			failed += r.Failed
			reqs += r.Requests
		}
		f := report.Finding{
			Kind: "errors", Subject: report.SubjectLoad, AtS: round3(at), Confidence: report.ConfidenceMeasured,
			Summary: fmt.Sprintf("errors began at %s: %s of %s requests failed from then (%s); in all %s",
				secs(at), report.FormatInt(failed), report.FormatInt(reqs), report.FormatPercent(float64(failed), float64(reqs), 1), a.s.FailedParts()),
			Chart: report.ChartAnchor("errors"),
		}
		// Errors only in the partial interval have no rate per second to
		// show (a count over a few milliseconds is none).
		if i < len(a.tl) {
			ev := report.Evidence{Series: "errors", FromS: round3(at), ToS: tl[len(tl)-1].TS}
			ev.Peak, ev.Mean = peakMean(a.tl[i:], func(iv report.Interval) (float64, bool) { return float64(iv.Failed), true })
			f.Evidence = []report.Evidence{ev}
		}
		return f, true
	}
	return report.Finding{}, false
}

// droppedStarts: starts that found no free client. With p99 steady they
// are fuka's limit (too few clients for the rate: the generator finding);
// with p99 climbing they follow the target's slowdown.
func (a *analysis) droppedStarts() (report.Finding, bool) {
	if a.s.Dropped == 0 {
		return report.Finding{}, false
	}
	for i, iv := range a.tl {
		if iv.Dropped == 0 {
			continue
		}
		at := iv.TS - iv.SpanS
		ev := report.Evidence{Series: "dropped", FromS: round3(at), ToS: a.tl[len(a.tl)-1].TS}
		ev.Peak, ev.Mean = peakMean(a.tl[i:], func(iv report.Interval) (float64, bool) { return float64(iv.Dropped), true })
		why := "every client was busy"
		if a.s.MaxClients > 0 {
			why = "every client of the " + report.FormatInt(int64(a.s.MaxClients)) + " allowed (--max-clients) was busy"
		}
		if a.lateDrops() {
			why = "they were more than a second overdue"
		}
		return report.Finding{
			Kind: "dropped_starts", Subject: report.SubjectLoad, AtS: round3(at), Confidence: report.ConfidenceMeasured,
			Summary: fmt.Sprintf("starts were dropped from %s: %s in all, none sent, because %s",
				secs(at), report.FormatInt(a.s.Dropped), why),
			Evidence: []report.Evidence{ev}, Chart: report.ChartAnchor("dropped"),
		}, true
	}
	return report.Finding{}, false
}

// scaleOut is a watched workload's scale-out after a load step.
func scaleOut(e report.ScaleEpisode) report.Finding {
	f := report.Finding{
		Kind: "scale_out", Subject: report.SubjectLoad, AtS: e.LoadStepS, Confidence: report.ConfidenceMeasured,
		Chart: report.ChartAnchor("kube." + strings.Replace(e.Workload, "/", ".", 1) + ".replicas_ready"),
	}
	ready := "not all ready by the end of the run"
	if e.ReadyS != nil && e.TimeToScaleS != nil {
		ready = "all ready at " + secs(*e.ReadyS) + ": " + secs(*e.TimeToScaleS) + " to scale"
		f.EndS = new(*e.ReadyS)
	}
	f.Summary = fmt.Sprintf("%s scaled out from %d to %d replicas after the load step at %s (asked at %s), %s; p99 during it up to %s (mean %s)",
		e.Workload, e.FromReplicas, e.ToReplicas, secs(e.LoadStepS), secs(e.ScaleOutS), ready, report.FormatMS(e.P99DuringMS), report.FormatMS(e.P99MeanDuringMS))
	to := e.LoadStepS
	if e.ReadyS != nil {
		to = *e.ReadyS
	}
	f.Evidence = []report.Evidence{{Series: "latency", FromS: e.LoadStepS, ToS: to, Peak: e.P99DuringMS, Mean: e.P99MeanDuringMS}}
	return f
}

// generator finds fuka's own limits: its CPU, and starts dropped for want
// of a client while the target's latency held.
func (a *analysis) generator() {
	if f, ok := a.generatorCPU(); ok {
		a.limits = append(a.limits, f)
	}
	if a.s.Dropped == 0 || a.s.Model != report.ModelOpen {
		return
	}
	var drop report.Finding
	for _, e := range a.events {
		if e.Kind == "dropped_starts" {
			drop = e
		}
	}
	if a.lateDrops() {
		a.limits = append(a.limits, report.Finding{
			Kind: "generator_late", Subject: report.SubjectGenerator, AtS: drop.AtS, Confidence: report.ConfidenceMeasured,
			Score: 1.5,
			Summary: fmt.Sprintf("fuka was the limit: from %s it dropped %s starts that were more than a second overdue, with at most %s of its %s clients busy: it could not start them on time (its CPUs were busy, or it stalled)",
				secs(drop.AtS), report.FormatInt(a.s.Dropped), report.FormatInt(int64(a.s.Clients)), report.FormatInt(int64(a.s.MaxClients))),
			Evidence: drop.Evidence, Chart: drop.Chart,
		})
		return
	}
	if !a.climbed {
		p99 := a.s.Latency.P99MS
		clients := "every client"
		if a.s.MaxClients > 0 {
			clients = "all " + report.FormatInt(int64(a.s.MaxClients)) + " clients (--max-clients)"
		}
		a.limits = append(a.limits, report.Finding{
			Kind: "generator_clients", Subject: report.SubjectGenerator, AtS: drop.AtS, Confidence: report.ConfidenceMeasured,
			Score: 1.5,
			Summary: fmt.Sprintf("fuka was the limit: from %s it dropped %s starts because %s were busy, while p99 did not climb (%s over the run): more clients would have sent the requested load",
				secs(drop.AtS), report.FormatInt(a.s.Dropped), clients, report.FormatMS(p99)),
			Evidence: drop.Evidence, Chart: drop.Chart,
		})
	}
}

// lateDrops: the open model's starts were dropped while clients were free
// (the most in flight stayed under --max-clients): they were overdue, so
// fuka itself could not start them on time.
func (a *analysis) lateDrops() bool {
	return a.s.MaxClients > 0 && a.s.Clients > 0 && float64(a.s.Clients) < 0.9*float64(a.s.MaxClients)
}

// generatorCPU: fuka's own CPU at GeneratorBusyPct of its CPUs, on average
// over the seconds in question (the whole run when the load showed no
// symptom: its numbers are fuka's either way); or, with a symptom, its
// CPU and its threads' wait for a CPU together there, mostly waiting — a
// generator on a busy CPU, which sends late.
func (a *analysis) generatorCPU() (report.Finding, bool) {
	if a.gen.CPUs <= 0 || len(a.gen.CPU) == 0 {
		return report.Finding{}, false
	}
	from := max(a.symptomAt, 0)
	cpu, peak, first, last, ok := meanAfter(a.gen.CPU, from)
	if !ok {
		return report.Finding{}, false
	}
	limit := GeneratorBusyPct * float64(a.gen.CPUs)
	ev := report.Evidence{Series: "fuka.cpu_pct", FromS: round3(first), ToS: last, Peak: round3(peak), Mean: round3(cpu), Limit: new(limit)}
	f := report.Finding{Kind: "generator_cpu", Subject: report.SubjectGenerator, AtS: round3(first), Confidence: report.ConfidenceMeasured, Score: 2}
	if cpu >= limit {
		f.Summary = fmt.Sprintf("fuka was the limit: it used %s CPU on average from %s (peak %s) of the %d CPU(s) it may use, so latencies include its own queueing and the target may take more",
			report.FormatFixed(cpu, 0)+"%", secs(first), report.FormatFixed(peak, 0)+"%", a.gen.CPUs)
		f.Evidence = []report.Evidence{ev}
		return f, true
	}
	if !a.changed {
		return report.Finding{}, false // no change in the load to explain
	}
	wait, wpeak, _, wlast, ok := meanAfter(a.gen.Wait, from)
	if !ok || wait < GeneratorWaitPct*float64(a.gen.CPUs) || cpu+wait < limit {
		return report.Finding{}, false
	}
	f.Summary = fmt.Sprintf("fuka was the limit: from %s its threads waited for a CPU %ss a second (summed over its threads, on the run queue; peak %ss) and ran %ss, on the %d CPU(s) it may use: those CPUs were busy, so it sent late and its latencies include the wait",
		secs(first), report.FormatFixed(wait/100, 2), report.FormatFixed(wpeak/100, 2), report.FormatFixed(cpu/100, 2), a.gen.CPUs)
	f.Evidence = []report.Evidence{
		{Series: "fuka.cpu_wait_pct", FromS: round3(first), ToS: wlast, Peak: round3(wpeak), Mean: round3(wait), Limit: new(GeneratorWaitPct * float64(a.gen.CPUs))},
		ev,
	}
	return f, true
}

// meanAfter averages the samples after from: their mean and peak, and the
// start of the first's second and the last's end.
func meanAfter(ss []Sample, from float64) (mean, peak, first, last float64, ok bool) {
	var sum float64
	n := 0
	first = -1
	for _, p := range ss {
		if p.TS <= from {
			continue
		}
		sum += p.V
		peak = max(peak, p.V)
		n++
		if first < 0 {
			first = max(p.TS-1, 0)
		}
		last = p.TS
	}
	if n == 0 {
		return 0, 0, 0, 0, false
	}
	return sum / float64(n), peak, first, last, true
}

// sorted returns the limits — fuka's own first, then the target's by how
// direct their evidence is (work turned away before saturation, before
// indirect signs), then by score (the highest first; ties by time, then
// kind) — and then the load's events by time.
func (a *analysis) sorted() []report.Finding {
	slices.SortStableFunc(a.limits, func(x, y report.Finding) int {
		if c := cmp.Compare(rank(x), rank(y)); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.AtS, y.AtS); c != 0 {
			return c
		}
		return cmp.Compare(x.Kind, y.Kind)
	})
	sort.SliceStable(a.events, func(i, j int) bool { return a.events[i].AtS < a.events[j].AtS })
	out := append(a.limits, a.events...)
	if len(out) == 0 {
		return nil
	}
	for i := range out {
		out[i].Score = round3(out[i].Score)
		if out[i].Evidence == nil {
			out[i].Evidence = []report.Evidence{}
		}
	}
	return out
}

// rank orders the limits' classes: fuka's own, then the target's by
// confidence.
func rank(f report.Finding) int {
	if f.Subject == report.SubjectGenerator {
		return 0
	}
	switch f.Confidence {
	case report.ConfidenceStrong:
		return 1
	case report.ConfidenceCorrelates:
		return 2
	}
	return 3
}

func peakMean(tl []report.Interval, v func(report.Interval) (float64, bool)) (peak, mean float64) {
	var sum float64
	var n int
	for _, iv := range tl {
		x, ok := v(iv)
		if !ok {
			continue
		}
		peak = max(peak, x)
		sum += x
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return round3(peak), round3(sum / float64(n))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func round3(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return math.Round(f*1000) / 1000
}

// secs says seconds from the start as the reports do: "12s", "1m5s".
func secs(s float64) string { return report.FormatSeconds(s) }
