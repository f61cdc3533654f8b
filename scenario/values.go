package scenario

import (
	"sort"
	"strings"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/threshold"
)

// Values gives thresholds their numbers: the whole run and each request name
// from the summary, plus scenario and group scopes merged from the run's
// per-request histograms (exact, since HDR histograms merge exactly), and
// "checks" pass ratios for every scope.
func (p *Program) Values(sum *report.Summary, run *metrics.Run) threshold.Values {
	checks := map[string][2]int64{}
	add := func(scope string, c [2]int64) {
		v := checks[scope]
		checks[scope] = [2]int64{v[0] + c[0], v[1] + c[1]}
	}
	scopes := p.scopes()
	for i, name := range run.CheckNames {
		c := run.Checks[i]
		add("", c)
		// Fix (e2e tests): the request is the one the check was compiled
		// for; cutting the name at ": " lost the checks of a request named
		// "api: home" (its request and scenario scopes had no checks data).
		reqIdx := -1
		req, _, _ := strings.Cut(name, ": ")
		if i < len(p.checkReq) && i < len(p.Checks) && p.Checks[i] == name {
			reqIdx = p.checkReq[i]
			req = p.Requests[reqIdx]
		}
		add(req, c)
		for scope, idx := range scopes {
			for _, r := range idx {
				if r == reqIdx || (reqIdx < 0 && p.Requests[r] == req) {
					add(scope, c)
					break
				}
			}
		}
	}
	base := threshold.SummaryValues(sum, checks)
	elapsed := sum.DurationS
	return scopedValues{base: base, scopes: scopes, run: run, checks: checks, elapsed: elapsed}
}

// scopes maps scenario and group names to their request indexes.
func (p *Program) scopes() map[string][]int {
	m := map[string][]int{}
	for g, idx := range p.Groups {
		m[g] = idx
	}
	for _, sc := range p.scenarios {
		var idx []int
		for _, st := range sc.steps {
			if st.kind == kRequest {
				idx = appendUnique(idx, st.req)
			}
		}
		m[sc.name] = idx
	}
	return m
}

type scopedValues struct {
	base    threshold.Values
	scopes  map[string][]int
	run     *metrics.Run
	checks  map[string][2]int64
	elapsed float64
}

// HasScope reports whether scope names anything.
func (v scopedValues) HasScope(scope string) bool {
	if _, ok := v.scopes[scope]; ok {
		return true
	}
	if s, ok := v.base.(threshold.Scoper); ok {
		return s.HasScope(scope)
	}
	return false
}

func (v scopedValues) Value(scope, metric string) (float64, bool) {
	idx, ok := v.scopes[scope]
	if !ok || scope == "" {
		return v.base.Value(scope, metric)
	}
	if metric == "checks" {
		c := v.checks[scope]
		if c[0]+c[1] == 0 {
			return 0, false
		}
		return float64(c[0]) / float64(c[0]+c[1]), true
	}
	st := metrics.NewStats()
	for _, i := range idx {
		if i < len(v.run.ByName) && v.run.ByName[i] != nil {
			st.Merge(v.run.ByName[i])
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	has := st.Requests > 0
	switch metric {
	case "requests":
		return float64(st.Requests), true
	case "failed":
		return float64(st.Failed), true
	case "error_rate":
		if !has {
			return 0, false
		}
		return float64(st.Failed) / float64(st.Requests), true
	case "rps":
		if v.elapsed <= 0 {
			return 0, false
		}
		return float64(st.Requests) / v.elapsed, true
	case "p50", "p90", "p95", "p99", "p999":
		q := map[string]float64{"p50": 50, "p90": 90, "p95": 95, "p99": 99, "p999": 99.9}[metric]
		return ms(metrics.Percentile(st.Latency, q)), has
	case "max":
		return ms(time.Duration(st.Latency.Max()) * time.Microsecond), has
	case "min":
		return ms(time.Duration(st.Latency.Min()) * time.Microsecond), has
	case "mean":
		return st.Latency.Mean() / 1000, has
	}
	return 0, false
}

// Scope is a scenario or a group and the requests it holds.
type Scope struct {
	Name     string
	Group    bool
	Requests []int // request name indexes
}

// Scopes lists the plan's scenarios (in file order), then its groups (by name).
func (p *Program) Scopes() []Scope {
	var out []Scope
	for _, sc := range p.scenarios {
		var idx []int
		for _, st := range sc.steps {
			if st.kind == kRequest {
				idx = appendUnique(idx, st.req)
			}
		}
		out = append(out, Scope{Name: sc.name, Requests: idx})
	}
	names := make([]string, 0, len(p.Groups))
	for g := range p.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		out = append(out, Scope{Name: g, Group: true, Requests: p.Groups[g]})
	}
	return out
}

// FillScopes adds the scenario and group rows to a plan run's summary: each
// the exact merge of its requests' histograms.
func (p *Program) FillScopes(sum *report.Summary, run *metrics.Run) {
	for _, sc := range p.Scopes() {
		st := metrics.NewStats()
		for _, i := range sc.Requests {
			if i < len(run.ByName) && run.ByName[i] != nil {
				st.Merge(run.ByName[i])
			}
		}
		ns := report.NameSummaryOf(sc.Name, st, sum.DurationS)
		if sc.Group {
			sum.Groups = append(sum.Groups, ns)
		} else {
			sum.Scenarios = append(sum.Scenarios, ns)
		}
	}
}
