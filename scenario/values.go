package scenario

import (
	"fmt"
	"slices"
	"sort"
	"strings"

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
		// The request is the one the check was compiled for, not the
		// name cut at ": ": a request may itself be named "api: home".
		// The cut is only the fallback for a check the program does not
		// know.
		reqIdx := -1
		req, _, _ := strings.Cut(name, ": ")
		if i < len(p.checkReq) && i < len(p.Checks) && p.Checks[i] == name {
			switch reqIdx = p.checkReq[i]; {
			case reqIdx >= 0:
				req = p.Requests[reqIdx]
			case p.scriptCheck(i):
				// A script's "no script error" check is its scenario's:
				// req is the scenario's name.
			default:
				continue // a logic step's check: the whole run's only
			}
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
		m[sc.name] = sc.requests()
	}
	return m
}

// requests are the request name indexes of the scenario: its steps' (and
// the steps' inside them), or those its script's function can reach.
func (sc *compiled) requests() []int {
	if sc.script != nil {
		return sc.script.reqs
	}
	return requests(nil, sc.steps)
}

// requests appends the request name indexes of steps, and of the steps
// inside them, to idx, each once: every name a step records under, so a
// scenario's row sums the same rows the by-name table shows for its steps.
// A WebSocket step's are its handshake (ws:), its message or round trip
// (send:, expect:) and a ws: step's every/ping sends; close: records
// nothing.
func requests(idx []int, steps []*step) []int {
	for _, st := range steps {
		switch st.kind {
		case kRequest, kWS, kSend, kExpect:
			idx = appendUnique(idx, st.req)
		}
		if st.kind == kWS && st.ws.every > 0 {
			idx = appendUnique(idx, st.ws.everyReq)
		}
		idx = requests(requests(idx, st.then), st.els)
	}
	return idx
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
	st := metrics.NewStats()
	for _, i := range idx {
		if i < len(v.run.ByName) && v.run.ByName[i] != nil {
			st.Merge(v.run.ByName[i])
		}
	}
	m := threshold.Measured{Stats: st, SpanS: v.elapsed, Checks: v.checks[scope]}
	return m.Value(metric)
}

// scopeChecks returns the check indexes of the requests in idx (nil idx:
// every check).
func (p *Program) scopeChecks(idx []int) []int {
	out := []int{}
	for i, r := range p.checkReq {
		if idx == nil || slices.Contains(idx, r) {
			out = append(out, i)
		}
	}
	return out
}

// resolve returns the request indexes a scope covers: nil for the whole
// run, else a scenario's or group's requests, else the request of that
// name. ok is false for a name that is none of them.
func (p *Program) resolve(scope string) (idx []int, ok bool) {
	if scope == "" {
		return nil, true
	}
	if idx, ok := p.scopes()[scope]; ok {
		if idx == nil {
			idx = []int{} // a scope without requests is not the whole run
		}
		return idx, true
	}
	for i, n := range p.Requests {
		if n == scope {
			return []int{i}, true
		}
	}
	return nil, false
}

// CheckAbort says why an abort_when expression could never fire in a run
// of p, or "" when it can: a scope that names no request, scenario or
// group; dropped for a scope (dropped starts have no request name yet);
// checks for a scope without checks. Such a rule would be silently inert,
// so the plan is refused instead.
func (p *Program) CheckAbort(e *threshold.Expr) string {
	idx, ok := p.resolve(e.Scope)
	switch {
	case !ok:
		return fmt.Sprintf("no request, scenario or group is named %q", e.Scope)
	case e.Metric == threshold.Dropped && e.Scope != "":
		return "dropped is counted for the whole run only (a dropped start has no request name yet)"
	case e.Metric == threshold.Checks && len(p.scopeChecks(idx)) == 0:
		if e.Scope == "" {
			return "the plan has no checks"
		}
		return fmt.Sprintf("%q has no checks", e.Scope)
	}
	return ""
}

// WindowValues gives abort_when rules their numbers: the same scopes and
// metrics as [Program.Values] (see [threshold.Measured]), over the last k
// intervals of w.
func (p *Program) WindowValues(w *metrics.Window, k int) threshold.Values {
	return threshold.ValuesFunc(func(scope, metric string) (float64, bool) {
		idx, ok := p.resolve(scope)
		if !ok {
			return 0, false
		}
		m := threshold.Measured{
			Stats:  w.Merged(k, idx),
			SpanS:  w.Span(k).Seconds(),
			Checks: w.Checks(k, p.scopeChecks(idx)),
		}
		if scope == "" {
			m.Dropped, m.HasDropped = w.Dropped(k), true
		}
		return m.Value(metric)
	})
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
		out = append(out, Scope{Name: sc.name, Requests: sc.requests()})
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

// scopeProtocol is the protocol all of reqs share (see Program.Protos),
// "" when they are HTTP or mix protocols: a scope's status counts are then
// bare numbers, its requests' rows say what each means.
func (p *Program) scopeProtocol(reqs []int) string {
	proto := ""
	for j, i := range reqs {
		pi := ""
		if i < len(p.Protos) {
			pi = p.Protos[i]
		}
		if j > 0 && pi != proto {
			return ""
		}
		proto = pi
	}
	return proto
}

// FillScopes adds the scenario and group rows to a plan run's summary: each
// the exact merge of its requests' histograms. Requests are recorded by
// name, so a name that two scenarios share counts in both scenarios' rows;
// the summary then says so in a warning rather than let the rows look
// disjoint.
//
// A logic step's check (an expression that could not be evaluated) is
// counted only when it fails; one that never failed is left out of the
// summary rather than shown as "0 passed, 0 failed".
func (p *Program) FillScopes(sum *report.Summary, run *metrics.Run) {
	logic := map[string]bool{}
	for i, r := range p.checkReq {
		if r < 0 && !p.scriptCheck(i) {
			logic[p.Checks[i]] = true
		}
	}
	if len(logic) > 0 {
		sum.Checks = slices.DeleteFunc(sum.Checks, func(c report.CheckSummary) bool {
			return logic[c.Name] && c.Passes == 0 && c.Fails == 0
		})
	}
	in := map[int][]string{} // request index -> the scenarios that have it
	for _, sc := range p.Scopes() {
		if !sc.Group {
			for _, i := range sc.Requests {
				in[i] = append(in[i], sc.Name)
			}
		}
	}
	for i, name := range p.Requests {
		if scs := in[i]; len(scs) > 1 {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("request name %q is in scenarios %s: each of their rows counts all of its requests (give the steps different names to tell them apart)", name, strings.Join(scs, ", ")))
		}
	}
	for _, sc := range p.Scopes() {
		st := metrics.NewStats()
		for _, i := range sc.Requests {
			if i < len(run.ByName) && run.ByName[i] != nil {
				st.Merge(run.ByName[i])
			}
		}
		ns := report.NameSummaryOf(sc.Name, st, sum.DurationS)
		ns.Protocol = p.scopeProtocol(sc.Requests)
		if sc.Group {
			sum.Groups = append(sum.Groups, ns)
		} else {
			sum.Scenarios = append(sum.Scenarios, ns)
		}
	}
}

// scriptCheck reports whether check i is a script scenario's "no script
// error" check, which counts in its scenario (a logic step's check, the
// other kind without a request, counts in the whole run only).
func (p *Program) scriptCheck(i int) bool {
	for _, sc := range p.scenarios {
		if sc.script != nil && sc.script.errCheck == i {
			return true
		}
	}
	return false
}
