package threshold

import (
	"math"
	"testing"
)

// fake is a Values over a map of scope -> metric -> value; it knows the
// scopes it has.
type fake map[string]map[string]float64

func (f fake) Value(scope, metric string) (float64, bool) {
	v, ok := f[scope][metric]
	return v, ok
}

func (f fake) HasScope(scope string) bool { _, ok := f[scope]; return ok }

var _ Scoper = fake(nil)

func mustParse(t testing.TB, s string) *Expr {
	t.Helper()
	e, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

func TestEvalOps(t *testing.T) {
	v := ValuesFunc(func(scope, metric string) (float64, bool) { return 10, true })
	tests := []struct {
		op                string
		less, eq, greater bool // threshold 9, 10, 11 against the actual 10
	}{
		{"<", false, false, true},
		{"<=", false, true, true},
		{">", true, false, false},
		{">=", true, true, false},
		{"==", false, true, false},
		{"!=", true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			for i, want := range []bool{tt.less, tt.eq, tt.greater} {
				e := &Expr{Metric: RPS, Op: tt.op, Value: float64(9 + i)}
				if r := e.Eval(v); r.Pass != want || r.Missing || r.Actual != 10 {
					t.Errorf("10 %s %d: %+v, want pass %v", tt.op, 9+i, r, want)
				}
			}
		})
	}
}

func TestEval(t *testing.T) {
	v := fake{
		"": {P99: 212.43, ErrorRate: 0.032, Checks: 0.9995, RPS: 512.34, Requests: 1234, P50: 0.1234, Max: 90000,
			P95: math.NaN()},
		"checkout": {P95: 1234, Checks: 0.9998},
		"browse":   {},
	}
	tests := []struct {
		in      string
		pass    bool
		missing bool
		str     string
	}{
		{"p99 < 300ms", true, false, "✓ p99 < 300ms (actual 212.4ms)"},
		{"p99 < 0.2s", false, false, "✗ p99 < 0.2s (actual 0.212s)"},
		{"p99 < 212.43ms", false, false, "✗ p99 < 212.43ms (actual 212.430ms)"},
		{"p50 < 250us", true, false, "✓ p50 < 250us (actual 123us)"},
		{"max < 2m", true, false, "✓ max < 2m (actual 1.50m)"},
		{"error_rate < 1%", false, false, "✗ error_rate < 1% (actual 3.20%)"},
		{"error_rate < 5%", true, false, "✓ error_rate < 5% (actual 3.20%)"},
		{"checks > 99.9%", true, false, "✓ checks > 99.9% (actual 99.95%)"},
		{"checkout.checks > 99.99%", false, false, "✗ checkout.checks > 99.99% (actual 99.980%)"},
		{"rps > 500", true, false, "✓ rps > 500 (actual 512.3)"},
		{"requests >= 1000", true, false, "✓ requests >= 1000 (actual 1234)"},
		{"checkout.p95 < 1.5s", true, false, "✓ checkout.p95 < 1.5s (actual 1.234s)"},
		{"cart.p95 < 500ms", false, true, "✗ cart.p95 < 500ms (no such request, scenario or group: cart)"},
		{`"my cart".p95 < 500ms`, false, true, `✗ "my cart".p95 < 500ms (no such request, scenario or group: my cart)`},
		{"browse.p95 < 500ms", false, true, "✗ browse.p95 < 500ms (no p95 data for browse)"},
		{"dropped == 0", false, true, "✗ dropped == 0 (no dropped data)"},
		{"p95 != 1ms", false, true, "✗ p95 != 1ms (no p95 data)"}, // NaN is no data, even for !=
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r := mustParse(t, tt.in).Eval(v)
			if r.Pass != tt.pass || r.Missing != tt.missing {
				t.Errorf("pass %v missing %v, want %v %v", r.Pass, r.Missing, tt.pass, tt.missing)
			}
			if got := r.String(); got != tt.str {
				t.Errorf("String() = %q\n          want %q", got, tt.str)
			}
		})
	}
}

func TestEvalWithoutScoper(t *testing.T) {
	// A Values that cannot tell an unknown scope from a scope without the
	// metric: the result is missing all the same, explained as no data.
	v := ValuesFunc(func(scope, metric string) (float64, bool) { return 0, false })
	r := mustParse(t, "cart.p95 < 500ms").Eval(v)
	if r.Pass || !r.Missing {
		t.Errorf("%+v, want missing", r)
	}
	if got, want := r.String(), "✗ cart.p95 < 500ms (no p95 data for cart)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestEvalAll(t *testing.T) {
	v := fake{"": {P99: 100, RPS: 50}}
	tests := []struct {
		name  string
		exprs []string
		want  bool
	}{
		{"none", nil, true},
		{"all pass", []string{"p99 < 300ms", "rps > 10"}, true},
		{"one fails", []string{"p99 < 300ms", "rps > 100"}, false},
		{"one missing", []string{"p99 < 300ms", "x.rps > 1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var exprs []*Expr
			for _, s := range tt.exprs {
				exprs = append(exprs, mustParse(t, s))
			}
			rs, all := EvalAll(exprs, v)
			if all != tt.want || len(rs) != len(exprs) {
				t.Fatalf("allPass %v with %d results, want %v with %d", all, len(rs), tt.want, len(exprs))
			}
			for i, r := range rs {
				if r.Expr != exprs[i] {
					t.Errorf("result %d is for %v, want %v", i, r.Expr, exprs[i])
				}
			}
		})
	}
}
