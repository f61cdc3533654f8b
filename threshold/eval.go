package threshold

import (
	"math"
	"strconv"
	"strings"
)

// Values is what expressions are evaluated against: a finished run (see
// [SummaryValues]) or, for abort_when, a window of a run in progress that
// the runner supplies.
type Values interface {
	// Value returns a metric for a scope ("" = the whole run; else a
	// scenario, group or request name) in the metric's canonical unit:
	// milliseconds for latency, 0..1 for ratios. ok is false when the scope
	// or the metric is unknown, or has no data (latency of no requests).
	Value(scope, metric string) (v float64, ok bool)
}

// Scoper is optionally implemented by a [Values] so that a missing value is
// explained well: an unknown scope (a typo in a name) reads differently from
// a known scope that has no data for the metric.
type Scoper interface {
	// HasScope reports whether scope is a scenario, group or request
	// name of the run; "" (the whole run) always is.
	HasScope(scope string) bool
}

// ValuesFunc adapts a function to [Values].
type ValuesFunc func(scope, metric string) (float64, bool)

// Value calls f.
func (f ValuesFunc) Value(scope, metric string) (float64, bool) { return f(scope, metric) }

var _ Values = ValuesFunc(nil)

// Result is the outcome of one expression.
type Result struct {
	Expr   *Expr
	Actual float64 // the metric's value, in its canonical unit; 0 when Missing
	// Pass reports whether the expression holds. For a threshold that is a
	// pass; for abort_when, a reason to stop.
	Pass bool
	// Missing is set when the scope or metric was not found (or had no
	// data); it counts as a fail.
	Missing bool

	noScope bool // Missing because the Values said the scope is unknown
}

// Eval evaluates e against v. A value that is missing or NaN fails.
func (e *Expr) Eval(v Values) Result {
	r := Result{Expr: e}
	actual, ok := v.Value(e.Scope, e.Metric)
	if !ok || math.IsNaN(actual) {
		r.Missing = true
		if sc, isScoper := v.(Scoper); isScoper && e.Scope != "" {
			r.noScope = !sc.HasScope(e.Scope)
		}
		return r
	}
	r.Actual = actual
	r.Pass = compare(actual, e.Op, e.Value)
	return r
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "==":
		return a == b
	case "!=":
		return a != b
	}
	return false
}

// EvalAll evaluates every expression, in order; allPass is true when all of
// them pass (and for none).
func EvalAll(exprs []*Expr, v Values) (results []Result, allPass bool) {
	results = make([]Result, len(exprs))
	allPass = true
	for i, e := range exprs {
		results[i] = e.Eval(v)
		allPass = allPass && results[i].Pass
	}
	return results, allPass
}

// String renders r for people, with the actual value in the unit the
// threshold was written in:
//
//	✓ p99 < 300ms (actual 212.4ms)
//	✗ error_rate < 1% (actual 3.20%)
//	✗ checkout.p95 < 500ms (no such request, scenario or group: checkout)
func (r Result) String() string {
	var b strings.Builder
	if r.Pass {
		b.WriteString("✓ ")
	} else {
		b.WriteString("✗ ")
	}
	if r.Expr == nil {
		b.WriteString("<nil>")
		return b.String()
	}
	e := r.Expr
	b.WriteString(e.String())
	b.WriteString(" (")
	switch {
	case r.noScope:
		b.WriteString("no such request, scenario or group: ")
		b.WriteString(e.Scope)
	case r.Missing:
		b.WriteString("no ")
		b.WriteString(e.Metric)
		b.WriteString(" data")
		if e.Scope != "" {
			b.WriteString(" for ")
			b.WriteString(e.Scope)
		}
	default:
		b.WriteString("actual ")
		b.WriteString(e.format(r.Actual))
	}
	b.WriteByte(')')
	return b.String()
}

// format writes v (canonical unit) in e's unit, with enough decimals to be
// useful and at least one more than the threshold was written with, so that
// "checks > 99.9%" never shows a failing "99.90%" next to it.
func (e *Expr) format(v float64) string {
	_, k := lookupMetric(e.Metric)
	unit := e.unit()
	dec := 0
	switch k {
	case kindLatency:
		switch unit {
		case "ms":
			dec = 1
		case "s":
			dec = 3
		case "m":
			dec = 2
		}
	case kindRatio:
		dec = 2
	case kindRate:
		dec = 1
	case kindNone:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if d := e.decimals(); d > 0 {
		dec = max(dec, d+1)
	}
	return strconv.FormatFloat(fromCanonical(v, unit), 'f', dec, 64) + unit
}
