package history

import (
	"math"

	"github.com/fuka-load/fuka/report"
)

// DefaultNoise is the relative change below which a comparison calls a
// metric the same: run-to-run jitter of a few percent is normal.
const DefaultNoise = 0.05

// Metric is one of the numbers a comparison judges.
type Metric int

// The metrics, in the order they are shown.
const (
	P95      Metric = iota // 95th percentile latency, ms
	P99                    // 99th percentile latency, ms
	RPS                    // throughput, requests per second
	ErrorPct               // failed requests, percent of requests
	NumMetrics
)

var metricNames = [NumMetrics]string{P95: "p95", P99: "p99", RPS: "rps", ErrorPct: "error %"}

func (m Metric) String() string { return metricNames[m] }

// floor is the absolute change a metric must also exceed to count: 0.1 ms
// for latencies (a tenth of a millisecond is below what a network path
// repeats to), 0.1 percentage point for errors (one failure in a thousand).
// Throughput has no absolute floor; its relative change is what matters.
var floors = [NumMetrics]float64{P95: 0.1, P99: 0.1, RPS: 0, ErrorPct: 0.1}

// higherIsWorse says which way a metric regresses.
var higherIsWorse = [NumMetrics]bool{P95: true, P99: true, RPS: false, ErrorPct: true}

// Verdict is what a change in one metric means.
type Verdict string

// The verdicts. A metric that cannot be compared (the name is missing from
// one run, or one side had no responses to measure latency on) has the
// empty verdict.
const (
	Same      Verdict = "same"
	Improved  Verdict = "improved"
	Regressed Verdict = "regressed"
)

// Numbers are what a comparison looks at for the whole run or one request
// name.
type Numbers struct {
	Requests int64
	P95MS    float64
	P99MS    float64
	RPS      float64
	ErrorPct float64 // failed/requests × 100
	// Tool is the other tool that measured an imported run ("" for
	// fuka's own), and Missing the metrics that tool did not measure:
	// they are shown as not measured and never judged.
	Tool    string
	Missing [NumMetrics]bool
}

// metricKeys are the summary's JSON keys of the metrics, as an imported
// run's not_measured names them.
var metricKeys = [NumMetrics]string{P95: "latency.p95_ms", P99: "latency.p99_ms", RPS: "rps", ErrorPct: "error_rate"}

// measured fills in which metrics an imported run's tool did not measure.
func measured(n *Numbers, im *report.Imported) *Numbers {
	if im == nil {
		return n
	}
	n.Tool = im.Tool
	for m := range NumMetrics {
		n.Missing[m] = im.Missing(metricKeys[m])
	}
	return n
}

// Value is the number of metric m.
func (n Numbers) Value(m Metric) float64 {
	switch m {
	case P95:
		return n.P95MS
	case P99:
		return n.P99MS
	case RPS:
		return n.RPS
	case ErrorPct:
		return n.ErrorPct
	}
	return 0
}

// Delta is one row of a comparison: the whole run or one request name.
type Delta struct {
	Name string   // "" is the whole run
	A, B *Numbers // nil when the name is not in that run
	// DeltaPct is (B−A)/A × 100 per metric: 0 when both are 0, ±Inf when
	// only A is 0, NaN when the metric cannot be compared.
	DeltaPct [NumMetrics]float64
	Verdict  [NumMetrics]Verdict
}

// Comparison sets run B (new) against run A (the baseline).
type Comparison struct {
	A, B Run
	// SourceA and SourceB say where a side was read from when it is not
	// a stored run (ID 0), e.g. a JSON summary file; shown in the header.
	SourceA, SourceB string
	Noise            float64 // relative threshold used, e.g. 0.05
	// Rows are the whole run first, then every request name in either
	// run: A's in A's order, then those only in B in B's order.
	Rows         []Delta
	Regressions  int // metrics judged Regressed, over all rows
	Improvements int // metrics judged Improved, over all rows
	// ImportedA and ImportedB are set when a side is another tool's run
	// (fuka import-results): which tool, and what it could not measure.
	ImportedA, ImportedB *report.Imported
	// Differences are what makes A and B different tests rather than
	// the same test twice; shown before any verdict, since a change
	// may then come from them and not from the service.
	Differences []Difference
}

// Difference is one way in which A and B are not the same test.
type Difference struct {
	What string // "plan", "target", "method" or "model"
	A, B string // as the summaries say; "" is shown as what it means
}

// differences lists how runs a and b differ as tests: another plan (a
// quick attack has none), another target, method or load model. The
// load's size is left out: comparing one plan at two sizes is an
// experiment people run on purpose.
func differences(a, b *report.Summary) []Difference {
	var ds []Difference
	add := func(what, x, y string) {
		if x != y {
			ds = append(ds, Difference{What: what, A: x, B: y})
		}
	}
	add("plan", planOf(a), planOf(b))
	add("target", a.Target, b.Target)
	add("method", a.Method, b.Method)
	add("model", a.Model, b.Model)
	if a.Imported != nil || b.Imported != nil {
		add("tool", toolOf(a), toolOf(b))
	}
	return ds
}

// Compare compares b (new) against a (the baseline). A metric regresses when
// it gets worse — latency or error rate up, throughput down — by more than
// noise relative to A (0.05 = 5%) and also by more than its absolute floor
// (0.1 ms for latencies, 0.1 percentage point for errors); it improves when
// it gets better by as much; otherwise it is the same.
func Compare(a, b *report.Summary, ra, rb Run, noise float64) *Comparison {
	if math.IsNaN(noise) || noise < 0 {
		noise = 0
	}
	c := &Comparison{A: ra, B: rb, Noise: noise, Differences: differences(a, b), ImportedA: a.Imported, ImportedB: b.Imported}
	whole := func(s *report.Summary) *Numbers {
		return measured(&Numbers{
			Requests: s.Requests,
			P95MS:    s.Latency.P95MS,
			P99MS:    s.Latency.P99MS,
			RPS:      s.RPS,
			ErrorPct: s.ErrorRate * 100,
		}, s.Imported)
	}
	c.add("", whole(a), whole(b))

	byName := func(s *report.Summary) map[string]*Numbers {
		m := make(map[string]*Numbers, len(s.ByName))
		for _, n := range s.ByName {
			if _, dup := m[n.Name]; dup {
				continue
			}
			m[n.Name] = measured(&Numbers{
				Requests: n.Requests,
				P95MS:    n.Latency.P95MS,
				P99MS:    n.Latency.P99MS,
				RPS:      n.RPS,
				ErrorPct: pct(float64(n.Failed), float64(n.Requests)),
			}, s.Imported)
		}
		return m
	}
	na, nb := byName(a), byName(b)
	seen := make(map[string]bool, len(na)+len(nb))
	for _, s := range []*report.Summary{a, b} {
		for _, n := range s.ByName {
			if !seen[n.Name] {
				seen[n.Name] = true
				c.add(n.Name, na[n.Name], nb[n.Name])
			}
		}
	}
	return c
}

// add appends the row for name, judging each metric.
func (c *Comparison) add(name string, a, b *Numbers) {
	d := Delta{Name: name, A: a, B: b}
	for m := range NumMetrics {
		d.DeltaPct[m] = math.NaN()
		if a == nil || b == nil {
			continue
		}
		if (m == P95 || m == P99) && (a.Requests == 0 || b.Requests == 0) {
			continue // no responses, no latency: 0 ms would read as a great improvement
		}
		if a.Missing[m] || b.Missing[m] {
			continue // another tool did not report it: its 0 is no measurement
		}
		d.DeltaPct[m], d.Verdict[m] = judge(m, a.Value(m), b.Value(m), c.Noise)
		switch d.Verdict[m] {
		case Regressed:
			c.Regressions++
		case Improved:
			c.Improvements++
		}
	}
	c.Rows = append(c.Rows, d)
}

// judge returns the relative change from a to b in percent and what it means.
func judge(m Metric, a, b, noise float64) (float64, Verdict) {
	diff := b - a
	var rel float64
	switch {
	case diff == 0:
		rel = 0
	case a == 0:
		rel = math.Inf(int(math.Copysign(1, diff)))
	default:
		rel = diff / math.Abs(a) * 100
	}
	// The epsilons keep a change of exactly the threshold "same" despite
	// float rounding (100 → 105 at 5% noise is not beyond the noise).
	const eps = 1e-9
	if math.Abs(diff) <= floors[m]+eps || math.Abs(rel) <= noise*100+eps {
		return rel, Same
	}
	if (diff > 0) == higherIsWorse[m] {
		return rel, Regressed
	}
	return rel, Improved
}

// pct is part/whole in percent, 0 when whole is 0.
func pct(part, whole float64) float64 {
	if whole == 0 {
		return 0
	}
	return part / whole * 100
}

// toolOf names the tool that made a run: fuka, or the one it was imported
// from.
// planOf is a run's plan name, "" for a quick attack. A run imported from
// a tool that has no plans (wrk, hey, bombardier; vegeta when it sent one
// request to one URL) under the tool's own name has none either: the name
// is a label, and the run is the same test as fuka attack URL.
func planOf(s *report.Summary) string {
	im := s.Imported
	if im == nil || s.Name != im.Tool {
		return s.Name
	}
	switch im.Tool {
	case "wrk", "hey", "bombardier":
		return ""
	case "vegeta":
		if len(s.ByName) == 1 && s.Method != "" {
			return ""
		}
	}
	return s.Name
}

func toolOf(s *report.Summary) string {
	if s.Imported == nil {
		return "fuka"
	}
	return s.Imported.Tool
}
