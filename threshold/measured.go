package threshold

import (
	"math"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// Measured is what one scope measured over a span of time: a whole run, or
// the last seconds of one that an abort_when rule looks at. [Measured.Value]
// is the one definition of every metric over measurements, so a threshold
// and an abort_when rule that name the same metric read the same number.
type Measured struct {
	Stats *metrics.Stats // the scope's requests, merged; nil counts as none
	SpanS float64        // seconds the measurements cover, for rps
	// Dropped is the starts dropped in the span; HasDropped says it is
	// known, which it is for the whole run only (a start is dropped before
	// it has a request name, scenario or group).
	Dropped    int64
	HasDropped bool
	Checks     [2]int64 // {passes, failures} of the scope's checks
}

// Value returns metric in its canonical unit, rounded as the JSON summary
// rounds it (latency to the microsecond, rps to three decimals), so that it
// equals what [SummaryValues] reads from the summary. ok is false for an
// unknown metric and for a metric with no data: latency or error_rate of no
// requests, checks of a scope without checks, dropped of a scope.
func (m *Measured) Value(metric string) (v float64, ok bool) {
	st := m.Stats
	if st == nil {
		st = metrics.NewStats()
	}
	switch metric {
	case Requests:
		return float64(st.Requests), true
	case Failed:
		return float64(st.Failed), true
	case Dropped:
		return float64(m.Dropped), m.HasDropped
	case RPS:
		if m.SpanS <= 0 || math.IsNaN(m.SpanS) {
			return 0, false
		}
		return math.Round(float64(st.Requests)/m.SpanS*1000) / 1000, true
	case Checks:
		c := m.Checks
		if c[0] < 0 || c[1] < 0 || c[0]+c[1] == 0 {
			return 0, false
		}
		return float64(c[0]) / float64(c[0]+c[1]), true
	}
	if st.Requests <= 0 || st.Latency.TotalCount() == 0 {
		return 0, false // no latency or error rate without requests
	}
	h := st.Latency
	ms := func(d time.Duration) float64 { return float64(d/time.Microsecond) / 1000 }
	switch metric {
	case ErrorRate:
		return float64(st.Failed) / float64(st.Requests), true
	case P50:
		return ms(metrics.Percentile(h, 50)), true
	case P90:
		return ms(metrics.Percentile(h, 90)), true
	case P95:
		return ms(metrics.Percentile(h, 95)), true
	case P99:
		return ms(metrics.Percentile(h, 99)), true
	case P999:
		return ms(metrics.Percentile(h, 99.9)), true
	case Max:
		return float64(h.Max()) / 1000, true
	case Min:
		return float64(h.Min()) / 1000, true
	case Mean:
		return math.Round(h.Mean()) / 1000, true
	}
	return 0, false
}

// MetricNames lists every metric name in canonical form.
func MetricNames() []string {
	return []string{P50, P90, P95, P99, P999, Max, Min, Mean, RPS, Requests, Failed, Dropped, ErrorRate, Checks}
}
