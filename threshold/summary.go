package threshold

import (
	"github.com/fuka-load/fuka/report"
)

// SummaryValues adapts a finished run's summary to [Values]. Its scopes are
// "" (the whole run), each request name of s.ByName, and each scope of
// checks.
//
// Per scope: requests, failed, rps, error_rate (0..1), and the latency
// metrics p50 p90 p95 p99 p999 max min mean in milliseconds (measured as
// s.LatencyFrom says). dropped is known for the whole run only: a start is
// dropped before it has a request name. Latency and error_rate of a scope
// with no requests are missing, not 0, so that a run that never reached a
// request fails its thresholds instead of passing them.
//
// checks maps a scope to its {pass, fail} check counts; "checks" is their
// pass ratio, missing for a scope without checks. The "" entry is the whole
// run: it is not summed from the others, which may overlap (a request inside
// a group inside a scenario). checks may be nil.
//
// Scenario and group scopes come from the runner, which can supply its own
// Values (and [Scoper]) that falls back to these.
func SummaryValues(s *report.Summary, checks map[string][2]int64) Values {
	if s == nil {
		s = &report.Summary{}
	}
	v := &summaryValues{s: s, checks: checks, byName: make(map[string]*report.NameSummary, len(s.ByName))}
	for i := range s.ByName {
		n := &s.ByName[i]
		if _, dup := v.byName[n.Name]; n.Name == "" || dup {
			continue // "" is the whole run; the first of two equal names wins
		}
		v.byName[n.Name] = n
	}
	return v
}

type summaryValues struct {
	s      *report.Summary
	checks map[string][2]int64
	byName map[string]*report.NameSummary
}

var (
	_ Values = (*summaryValues)(nil)
	_ Scoper = (*summaryValues)(nil)
)

func (v *summaryValues) HasScope(scope string) bool {
	if scope == "" {
		return true
	}
	if _, ok := v.byName[scope]; ok {
		return true
	}
	_, ok := v.checks[scope]
	return ok
}

func (v *summaryValues) Value(scope, metric string) (float64, bool) {
	if metric == Checks {
		c, ok := v.checks[scope]
		if !ok || c[0] < 0 || c[1] < 0 || c[0]+c[1] == 0 {
			return 0, false
		}
		return float64(c[0]) / float64(c[0]+c[1]), true
	}
	var (
		requests, failed int64
		rps              float64
		lat              *report.Latency
	)
	if scope == "" {
		requests, failed, rps, lat = v.s.Requests, v.s.Failed, v.s.RPS, &v.s.Latency
		if metric == Dropped {
			return float64(v.s.Dropped), true
		}
	} else {
		n, ok := v.byName[scope]
		if !ok {
			return 0, false
		}
		requests, failed, rps, lat = n.Requests, n.Failed, n.RPS, &n.Latency
	}
	switch metric {
	case Requests:
		return float64(requests), true
	case Failed:
		return float64(failed), true
	case RPS:
		return rps, true
	}
	if requests <= 0 {
		return 0, false // no latency or error rate without requests
	}
	switch metric {
	case ErrorRate:
		// From the counts rather than the rounded Summary.ErrorRate.
		return float64(failed) / float64(requests), true
	case P50:
		return lat.P50MS, true
	case P90:
		return lat.P90MS, true
	case P95:
		return lat.P95MS, true
	case P99:
		return lat.P99MS, true
	case P999:
		return lat.P999MS, true
	case Max:
		return lat.MaxMS, true
	case Min:
		return lat.MinMS, true
	case Mean:
		return lat.MeanMS, true
	}
	return 0, false
}
