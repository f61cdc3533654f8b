package scenario_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/scenario"
	"github.com/fuka-load/fuka/threshold"
)

// scopesPlan has two scenarios, a group with a group nested in it, and
// checks on some requests only.
const scopesPlan = `
base_url: http://127.0.0.1:1
scenarios:
  shop:
    steps:
      - get: /a
        name: a
        check: { status: 200 }
      - group: outer
        steps:
          - get: /b
            name: b
          - group: inner
            steps:
              - get: /c
                name: c
                check: { status: 200 }
  other:
    steps:
      - get: /d
        name: d
load: { clients: 1, duration: 1s }
`

// synthRun records a known run for prog's names: intervals of one second,
// each name with its own latency spread and failures, checks, drops.
func synthRun(t *testing.T, prog *scenario.Program, intervals int) (*metrics.Run, *metrics.Window) {
	t.Helper()
	rec := metrics.NewRecorder(len(prog.Requests)).WithChecks(len(prog.Checks))
	col := metrics.NewCollector(prog.Requests, []*metrics.Recorder{rec})
	col.SetChecks(prog.Checks)
	win := metrics.NewWindow(intervals)
	for i := range intervals {
		for n := range prog.Requests {
			for j := range 100 * (n + 1) {
				o := metrics.Outcome{Latency: time.Duration((n+1)*(j+1)*(i+1)) * 97 * time.Microsecond, Status: 200}
				if j%(7+n) == 0 {
					o.Status = 500
				}
				rec.Record(n, o)
			}
		}
		for c := range prog.Checks {
			for j := range 10 {
				rec.Check(c, j < 8+c)
			}
		}
		rec.Drop(int64(3 * i))
		p := col.Tick(time.Duration(i+1)*time.Second, 1)
		win.Add(p, col.Run().Interval, col.Run().IntervalChecks)
	}
	return col.Run(), win
}

// TestWindowValuesAreThresholdValues: an abort_when rule reads every metric
// thresholds know, for every kind of scope, with the value a threshold
// reads: a window that covers the whole run gives the whole run's numbers.
// (A p999 that read p99, a mean taken from one second, a group that left
// out its nested group: each makes a pair differ here.)
func TestWindowValuesAreThresholdValues(t *testing.T) {
	prog := compile(t, writePlan(t, "", scopesPlan, nil))
	const intervals = 5
	run, win := synthRun(t, prog, intervals)
	sum := report.NewSummary(report.Meta{Model: report.ModelOpen, Elapsed: intervals * time.Second}, run)
	whole := prog.Values(sum, run)
	window := prog.WindowValues(win, intervals)
	for _, scope := range []string{"", "a", "c", "shop", "other", "outer", "inner"} {
		for _, metric := range threshold.MetricNames() {
			t.Run(scope+"."+metric, func(t *testing.T) {
				want, wok := whole.Value(scope, metric)
				got, gok := window.Value(scope, metric)
				if got != want || gok != wok {
					t.Errorf("window %v (ok %v), whole run %v (ok %v)", got, gok, want, wok)
				}
			})
		}
	}
}

// TestWindowValuesKnown: the window's values against numbers computed by
// hand, so that the two paths cannot agree on a wrong number.
func TestWindowValuesKnown(t *testing.T) {
	prog := compile(t, writePlan(t, "", scopesPlan, nil))
	run, win := synthRun(t, prog, 3)
	_ = run
	v := prog.WindowValues(win, 2) // intervals 2 and 3 (i = 1, 2)
	// Name a (n = 0): 100 requests a second, latency (j+1)·(i+1)·97µs.
	var lat []float64
	var failed int
	for i := 1; i <= 2; i++ {
		for j := range 100 {
			lat = append(lat, float64((j+1)*(i+1)*97)/1000)
			if j%7 == 0 {
				failed++
			}
		}
	}
	pct := func(p float64) float64 { // nearest rank, as HDR reads it (to 0.1%)
		s := append([]float64(nil), lat...)
		for i := range s {
			for j := i + 1; j < len(s); j++ {
				if s[j] < s[i] {
					s[i], s[j] = s[j], s[i]
				}
			}
		}
		return s[int(math.Ceil(p/100*float64(len(s))))-1]
	}
	var sum float64
	minV, maxV := lat[0], lat[0]
	for _, l := range lat {
		sum += l
		minV, maxV = min(minV, l), max(maxV, l)
	}
	tests := []struct {
		metric string
		want   float64
		tol    float64 // relative: HDR keeps 3 significant digits
	}{
		{"requests", 200, 0},
		{"failed", float64(failed), 0},
		{"error_rate", float64(failed) / 200, 1e-12},
		{"rps", 100, 0},
		{"p50", pct(50), 1e-3},
		{"p90", pct(90), 1e-3},
		{"p95", pct(95), 1e-3},
		{"p99", pct(99), 1e-3},
		{"p999", pct(99.9), 1e-3},
		{"min", minV, 1e-3},
		{"max", maxV, 1e-3},
		{"mean", sum / float64(len(lat)), 1e-3},
		{"checks", 16.0 / 20, 1e-12}, // check "a: status is 200" passes 8 of 10 a second
	}
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			got, ok := v.Value("a", tt.metric)
			if !ok || math.Abs(got-tt.want) > tt.tol*tt.want {
				t.Errorf("a.%s = %v (ok %v), want %v", tt.metric, got, ok, tt.want)
			}
		})
	}
	if got, ok := v.Value("", "dropped"); !ok || got != 3+6 {
		t.Errorf("dropped = %v (ok %v), want 9 (3 and 6 in the last two intervals)", got, ok)
	}
	if p99, _ := v.Value("a", "p99"); p99 == pct(99.9) {
		t.Errorf("p99 equals the hand-made p99.9")
	}
}

// TestCheckAbort: an abort_when rule that could never fire is refused.
func TestCheckAbort(t *testing.T) {
	prog := compile(t, writePlan(t, "", scopesPlan, nil))
	tests := []struct {
		expr string
		want string // "" = accepted; else part of the reason
	}{
		{"p999 > 1s", ""},
		{"min > 1s", ""},
		{"mean > 1s", ""},
		{"checks < 90%", ""},
		{"a.checks < 90%", ""},
		{"outer.checks < 90%", ""}, // c, in the nested group, has a check
		{"shop.p99 > 1s", ""},
		{"inner.error_rate > 5%", ""},
		{"dropped > 10", ""},
		{"d.checks < 90%", `"d" has no checks`},
		{"other.checks < 90%", `"other" has no checks`},
		{"nope.p99 > 1s", `no request, scenario or group is named "nope"`},
		{"a.dropped > 1", "whole run only"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := threshold.Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got := prog.CheckAbort(e)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("CheckAbort = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFillScopesNested: a group's row includes the groups nested in it, and
// every scenario and group row is the exact merge of its requests' rows.
func TestFillScopesNested(t *testing.T) {
	prog := compile(t, writePlan(t, "", scopesPlan, nil))
	run, _ := synthRun(t, prog, 2)
	sum := report.NewSummary(report.Meta{Elapsed: 2 * time.Second}, run)
	prog.FillScopes(sum, run)
	byName := map[string]*metrics.Stats{}
	for i, n := range run.Names {
		byName[n] = run.ByName[i]
	}
	want := map[string][]string{
		"shop": {"a", "b", "c"}, "other": {"d"},
		"outer": {"b", "c"}, "inner": {"c"},
	}
	rows := append(append([]report.NameSummary(nil), sum.Scenarios...), sum.Groups...)
	if len(rows) != len(want) {
		t.Fatalf("%d scenario and group rows, want %d: %+v", len(rows), len(want), rows)
	}
	for _, row := range rows {
		t.Run(row.Name, func(t *testing.T) {
			st := metrics.NewStats()
			for _, n := range want[row.Name] {
				st.Merge(byName[n])
			}
			exp := report.NameSummaryOf(row.Name, st, sum.DurationS)
			if row.Requests != exp.Requests || row.Failed != exp.Failed || row.Latency != exp.Latency || row.RPS != exp.RPS {
				t.Errorf("row %+v\nwant %+v (the merge of %v)", row, exp, want[row.Name])
			}
		})
	}
}

// TestFillScopesSharedName: a request name in two scenarios counts in both
// scenarios' rows (requests are recorded by name), and the summary says so.
func TestFillScopesSharedName(t *testing.T) {
	prog := compile(t, writePlan(t, "", `
base_url: http://127.0.0.1:1
scenarios:
  one: { steps: [ { get: /, name: home }, { get: /a, name: a } ] }
  two: { steps: [ { get: /, name: home } ] }
load: { clients: 1, duration: 1s }
`, nil))
	run, _ := synthRun(t, prog, 1)
	sum := report.NewSummary(report.Meta{Elapsed: time.Second}, run)
	prog.FillScopes(sum, run)
	want := `request name "home" is in scenarios one, two`
	if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], want) {
		t.Errorf("warnings %q, want one saying %q", sum.Warnings, want)
	}
}

// TestFillScopesWebSocket: a scenario's row and its thresholds count every
// name its steps record under, whatever the protocol: HTTP requests, gRPC
// calls, WebSocket handshakes, messages and round trips (in loops and ifs
// too) and a ws: step's every: sends or pings; close: records nothing.
func TestFillScopesWebSocket(t *testing.T) {
	prog := compile(t, writePlan(t, "", `
base_url: http://127.0.0.1:1
scenarios:
  chat:
    steps:
      - ws: /chat
        name: join
        every: { period: 1s, ping: true }
      - loop: { count: 2 }
        steps:
          - send: hi
            name: say
            expect: { contains: hi }
            timeout: 1s
      - expect: { contains: bye }
        name: wait
        timeout: 1s
      - close: 1000
  shopper:
    steps:
      - get: /login
        name: login
      - ws: /room
        name: room
        every: { period: 1s, send: tick }
      - if: "{{ 1 == 1 }}"
        then:
          - send: hello
            name: hello
      - grpc: { target: "grpc://127.0.0.1:1", service: shop.Cart, method: Add, message: { item: x } }
        name: cart
      - close: 1000
load: { clients: 1, duration: 1s }
`, nil))
	run, _ := synthRun(t, prog, 2)
	sum := report.NewSummary(report.Meta{Elapsed: 2 * time.Second}, run)
	prog.FillScopes(sum, run)
	vals := prog.Values(sum, run)
	byName := map[string]*metrics.Stats{}
	for i, n := range run.Names {
		byName[n] = run.ByName[i]
	}
	want := map[string][]string{
		"chat":    {"join", "join ping", "say", "wait"},
		"shopper": {"login", "room", "room every", "hello", "cart"},
	}
	if len(sum.Scenarios) != len(want) {
		t.Fatalf("%d scenario rows, want %d: %+v", len(sum.Scenarios), len(want), sum.Scenarios)
	}
	for _, row := range sum.Scenarios {
		t.Run(row.Name, func(t *testing.T) {
			st := metrics.NewStats()
			for _, n := range want[row.Name] {
				if byName[n] == nil {
					t.Fatalf("no request name %q; have %q", n, run.Names)
				}
				st.Merge(byName[n])
			}
			exp := report.NameSummaryOf(row.Name, st, sum.DurationS)
			if row.Requests != exp.Requests || row.Failed != exp.Failed || row.Latency != exp.Latency {
				t.Errorf("row %+v\nwant %+v (the merge of %v)", row, exp, want[row.Name])
			}
			for metric, w := range map[string]float64{"requests": float64(exp.Requests), "failed": float64(exp.Failed)} {
				if v, ok := vals.Value(row.Name, metric); !ok || v != w {
					t.Errorf("threshold %s.%s = %v (%v), want %v", row.Name, metric, v, ok, w)
				}
			}
		})
	}
}
