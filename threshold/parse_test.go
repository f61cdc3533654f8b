package threshold

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		scope    string
		metric   string
		op       string
		value    float64
		unit     string
		str      string // String(); "" means the same as in
	}{
		{"latency ms", "p99 < 300ms", "", P99, "<", 300, "ms", ""},
		{"seconds", "p95 <= 1.5s", "", P95, "<=", 1500, "s", ""},
		{"microseconds", "p50 > 250us", "", P50, ">", 0.25, "us", ""},
		{"micro sign", "min >= 5µs", "", Min, ">=", 0.005, "µs", ""},
		{"greek mu", "min >= 5μs", "", Min, ">=", 0.005, "μs", ""},
		{"minutes", "max < 2m", "", Max, "<", 120000, "m", ""},
		{"p99.9 alias", "p99.9 < 1s", "", P999, "<", 1000, "s", "p999 < 1s"},
		{"p999", "p999 < 1s", "", P999, "<", 1000, "s", ""},
		{"avg alias", "avg < 20ms", "", Mean, "<", 20, "ms", "mean < 20ms"},
		{"error rate", "error_rate < 1%", "", ErrorRate, "<", 0.01, "%", ""},
		{"checks", "checks > 99.9%", "", Checks, ">", 0.999, "%", ""},
		{"zero percent", "error_rate == 0%", "", ErrorRate, "==", 0, "%", ""},
		{"hundred percent", "checks == 100%", "", Checks, "==", 1, "%", ""},
		{"rps", "rps > 500", "", RPS, ">", 500, "", ""},
		{"requests", "requests >= 1000", "", Requests, ">=", 1000, "", ""},
		{"failed", "failed == 0", "", Failed, "==", 0, "", ""},
		{"dropped", "dropped != 0", "", Dropped, "!=", 0, "", ""},
		{"scope", "checkout.p95 < 500ms", "checkout", P95, "<", 500, "ms", ""},
		{"scope with p99.9", "checkout.p99.9 < 1s", "checkout", P999, "<", 1000, "s", "checkout.p999 < 1s"},
		{"dotted scope", "api.v2.p95 < 1s", "api.v2", P95, "<", 1000, "s", ""},
		{"scope named like a metric", "p99.p95 < 1s", "p99", P95, "<", 1000, "s", ""},
		{"word scope", "get_user-2.rps > 1", "get_user-2", RPS, ">", 1, "", ""},
		{"quoted scope", `"list products".p95 < 200ms`, "list products", P95, "<", 200, "ms", ""},
		{"single-quoted scope", `'list products'.p95 < 200ms`, "list products", P95, "<", 200, "ms", `"list products".p95 < 200ms`},
		{"quoted dots", `"a.b".p95 < 200ms`, "a.b", P95, "<", 200, "ms", "a.b.p95 < 200ms"},
		{"quoted plain", `"checkout".error_rate < 5%`, "checkout", ErrorRate, "<", 0.05, "%", "checkout.error_rate < 5%"},
		{"escapes", `"say \"hi\" \\ o/".p95 < 1s`, `say "hi" \ o/`, P95, "<", 1000, "s", ""},
		{"quoted ops", `"a<b>=c".p95 < 1s`, "a<b>=c", P95, "<", 1000, "s", ""},
		{"no spaces", "p99<300ms", "", P99, "<", 300, "ms", "p99 < 300ms"},
		{"extra spaces", "  p99\t>=  300ms  ", "", P99, ">=", 300, "ms", "p99 >= 300ms"},
		{"decimals kept", "p99 < 1.50s", "", P99, "<", 1500, "s", ""},
		{"leading dot", "p99 < .5s", "", P99, "<", 500, "s", ""},
		{"trailing dot", "rps > 5.", "", RPS, ">", 5, "", ""},
		{"fraction of a percent", "error_rate < 0.07%", "", ErrorRate, "<", 0.0007, "%", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if e.Scope != tt.scope || e.Metric != tt.metric || e.Op != tt.op || e.Unit != tt.unit || e.Src != tt.in {
				t.Errorf("Parse(%q) = scope %q metric %q op %q unit %q src %q; want %q %q %q %q %q",
					tt.in, e.Scope, e.Metric, e.Op, e.Unit, e.Src, tt.scope, tt.metric, tt.op, tt.unit, tt.in)
			}
			if e.Value != tt.value {
				t.Errorf("Parse(%q).Value = %v, want %v", tt.in, e.Value, tt.value)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if got := e.String(); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
		})
	}
}

const wantMetrics = "(want p50, p90, p95, p99, p999, max, min, mean, rps, requests, failed, dropped, error_rate or checks)"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		off      int
		msg      string
	}{
		{"empty", "", 0, `empty threshold; want e.g. "p99 < 300ms"`},
		{"blank", "  ", 2, `empty threshold; want e.g. "p99 < 300ms"`},
		{"unknown metric", "p98 < 1ms", 0, `unknown metric "p98" ` + wantMetrics},
		{"unknown metric in scope", "checkout.p98 < 1ms", 9, `unknown metric "p98" ` + wantMetrics},
		{"unknown dotted metric", "p99.8 < 1ms", 0, `unknown metric "p99.8" ` + wantMetrics},
		{"scoped unknown dotted metric", "a.p99.8 < 1ms", 2, `unknown metric "p99.8" ` + wantMetrics},
		{"case matters", "P99 < 1ms", 0, `unknown metric "P99" ` + wantMetrics},
		{"unquoted spaces", "list products.p95 < 200ms", 0, `unknown metric "list"; a scope with spaces needs quotes: "list products".p95`},
		{"unquoted path", "GET /x.p95 < 1s", 0, `unknown metric "GET"; a scope with spaces needs quotes: "GET /x".p95`},
		{"scope needs quotes", "a/b.p99 < 1s", 1, `scope "a/b" needs quotes: "a/b".p99`},
		{"scope with double dot", "a..b.p99 < 1s", 2, `scope "a..b" needs quotes: "a..b".p99`},
		{"empty scope", ".p99 < 1s", 0, `empty scope before ".p99"`},
		{"no metric", "< 3ms", 0, `want a metric such as p99 before "<"`},
		{"no operator", "p99", 3, `want an operator (<, <=, >, >=, == or !=) after "p99"`},
		{"value without operator", "p99 300ms", 4, `want an operator (<, <=, >, >=, == or !=), got "300ms"`},
		{"single equals", "p99 = 3ms", 4, `unknown operator "="; want ==`},
		{"reversed le", "p99 =< 3ms", 4, `unknown operator "=<"; want <=`},
		{"reversed ge", "p99 => 3ms", 4, `unknown operator "=>"; want >=`},
		{"sql not equal", "p99 <> 3ms", 4, `unknown operator "<>"; want !=`},
		{"bang", "p99 !3ms", 4, `unknown operator "!"; want !=`},
		{"no value", "p99 <", 5, `want a number after "<"`},
		{"negative", "p99 < -3ms", 6, `want a number after "<", got "-3ms"`},
		{"exponent", "p99 < 1e3ms", 6, `want a plain decimal number and a unit, got "1e3ms"`},
		{"two dots", "rps > 5.5.5", 6, `want a plain decimal number and a unit, got "5.5.5"`},
		{"latency without unit", "p99 < 300", 6, "give a unit, e.g. 300ms"},
		{"unit after a space", "p99 < 300 ms", 10, `unexpected "ms" after the value; write the unit next to the number: 300ms`},
		{"percent latency", "p99 < 3%", 7, `p99 takes a time unit (ms, s, us, µs or m), not "%"`},
		{"nanoseconds", "p99 < 3ns", 7, `p99 takes a time unit (ms, s, us, µs or m), not "ns"`},
		{"hours", "mean < 1h", 8, `mean takes a time unit (ms, s, us, µs or m), not "h"`},
		{"ratio without percent", "error_rate < 1", 13, "give a percentage, e.g. 1%"},
		{"ratio with time", "error_rate < 1ms", 14, `error_rate takes a percentage, e.g. 1%, not "ms"`},
		{"over 100 percent", "checks > 101%", 9, "101% is more than 100%"},
		{"percent on rps", "rps > 5%", 7, `rps takes a plain number, not "%"`},
		{"time on count", "failed < 3ms", 10, `failed takes a plain number, not "ms"`},
		{"trailing text", "rps > 500 x", 10, `unexpected "x" after the value`},
		{"trailing expression", "p99 < 1s and p95 < 2s", 9, `unexpected "and" after the value`},
		{"unterminated quote", `"a b.p99 < 1s`, 0, "unterminated quoted scope"},
		{"empty quoted scope", `"".p99 < 1s`, 0, "empty scope"},
		{"quoted without dot", `"a b" < 1s`, 5, `want "." and a metric after the quoted scope, e.g. "a b".p95`},
		{"quoted without metric", `"a b".`, 6, `want a metric after "a b". ` + wantMetrics},
		{"quoted unknown metric", `"a b".foo < 1s`, 6, `unknown metric "foo" ` + wantMetrics},
		{"huge number", "rps > 1" + strings.Repeat("0", 400), 6, "number 1" + strings.Repeat("0", 400) + " out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, e)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *Error", tt.in, err)
			}
			if pe.Offset != tt.off || pe.Msg != tt.msg || pe.Src != tt.in {
				t.Errorf("Parse(%q) = offset %d %q (src %q)\n want offset %d %q", tt.in, pe.Offset, pe.Msg, pe.Src, tt.off, tt.msg)
			}
			if pe.Offset < 0 || pe.Offset > len(tt.in) {
				t.Errorf("offset %d outside the %d-byte input", pe.Offset, len(tt.in))
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	_, err := Parse("p99 < 300")
	want := `threshold "p99 < 300": offset 6: give a unit, e.g. 300ms`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestStringByHand(t *testing.T) {
	tests := []struct {
		e    Expr
		want string
	}{
		{Expr{Metric: P99, Op: "<", Value: 300}, "p99 < 300ms"},
		{Expr{Metric: P99, Op: "<", Value: 1500, Unit: "s"}, "p99 < 1.5s"},
		{Expr{Metric: ErrorRate, Op: "<", Value: 0.25}, "error_rate < 25%"},
		{Expr{Scope: "list products", Metric: RPS, Op: ">", Value: 10}, `"list products".rps > 10`},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"p99 < 300ms", "checkout.p95 < 500ms", "error_rate < 1%", "checks > 99.9%", "rps > 500",
		`"list products".p95 < 200ms`, `'a\'b'.p99.9<=1.5s`, "api.v2.avg != .5us", "dropped == 0",
		"failed>=3.", "max < 2m", "min > 5µs", `"\\".p50 == 0ms`, "p99 < 300", "a/b.p99 < 1s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(s) || pe.Msg == "" {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		str := e.String()
		e2, err := Parse(str)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, str, err)
		}
		e2.Src = e.Src
		if *e2 != *e {
			t.Fatalf("Parse(%q) = %#v\nString %q parses to %#v", s, *e, str, *e2)
		}
		if str2 := e2.String(); str2 != str {
			t.Fatalf("String not stable: %q then %q", str, str2)
		}
	})
}
