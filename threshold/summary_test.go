package threshold

import (
	"math"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// shopSummary is a 2-second closed run built the way the engine builds one,
// through a Recorder and a Collector:
//
//	list products  100 requests: 98 x 10ms, 2 x 100ms
//	checkout        50 requests: 45 x 200ms, 5 x 300ms answered 503
//	never            0 requests
//
// plus 3 dropped starts.
func shopSummary() *report.Summary {
	names := []string{"list products", "checkout", "never"}
	rec := metrics.NewRecorder(len(names))
	col := metrics.NewCollector(names, []*metrics.Recorder{rec})
	record := func(name, n int, lat time.Duration, status int) {
		for range n {
			rec.Record(name, metrics.Outcome{Latency: lat, Service: lat, Status: status})
		}
	}
	record(0, 49, 10*time.Millisecond, 200)
	record(0, 1, 100*time.Millisecond, 200)
	record(1, 45, 200*time.Millisecond, 200)
	col.Tick(time.Second, 10)
	record(0, 49, 10*time.Millisecond, 200)
	record(0, 1, 100*time.Millisecond, 200)
	record(1, 5, 300*time.Millisecond, 503)
	rec.Drop(3)
	col.Tick(2*time.Second, 10)
	meta := report.Meta{Model: report.ModelClosed, Clients: 10, Elapsed: 2 * time.Second}
	return report.NewSummary(meta, col.Run())
}

// near accepts HDR's 3 significant digits.
func near(got, want float64) bool { return math.Abs(got-want) <= want*0.001+1e-9 }

func TestSummaryValues(t *testing.T) {
	checks := map[string][2]int64{"": {995, 5}, "checkout": {45, 5}, "browse": {1, 1}, "empty": {}}
	v := SummaryValues(shopSummary(), checks)
	noChecks := SummaryValues(shopSummary(), nil)
	tests := []struct {
		in      string
		v       Values
		pass    bool
		missing bool
		actual  float64
		str     string // "" to skip
	}{
		{"requests == 150", v, true, false, 150, ""},
		{"failed == 5", v, true, false, 5, ""},
		{"dropped == 3", v, true, false, 3, ""},
		{"rps == 75", v, true, false, 75, ""},
		{"error_rate < 1%", v, false, false, 5.0 / 150, "✗ error_rate < 1% (actual 3.33%)"},
		{"error_rate < 3.4%", v, true, false, 5.0 / 150, ""},
		{"p50 < 11ms", v, true, false, 10, "✓ p50 < 11ms (actual 10.0ms)"},
		{"p99 < 250ms", v, false, false, 300, "✗ p99 < 250ms (actual 300.0ms)"},
		{"min >= 10ms", v, true, false, 10, ""},
		{"max <= 0.5s", v, true, false, 300, ""},

		// Scope lookup by request name, quoted when it has a space.
		{`"list products".requests == 100`, v, true, false, 100, ""},
		{`"list products".p50 < 11ms`, v, true, false, 10, ""},
		{`"list products".p99 > 90ms`, v, true, false, 100, ""},
		{`"list products".error_rate == 0%`, v, true, false, 0, ""},
		{"checkout.rps == 25", v, true, false, 25, ""},
		{"checkout.failed < 5", v, false, false, 5, "✗ checkout.failed < 5 (actual 5)"},
		// 5/50 is the float nearest 0.1, and so is "10%".
		{"checkout.error_rate <= 10%", v, true, false, 0.1, "✓ checkout.error_rate <= 10% (actual 10.00%)"},
		{"checkout.mean < 250ms", v, true, false, 210, ""},
		{"checkout.max < 301ms", v, true, false, 300, ""},
		{"never.requests == 0", v, true, false, 0, ""},

		// Missing: unknown scope, a metric the scope does not have, no requests.
		{"cart.p95 < 500ms", v, false, true, 0, "✗ cart.p95 < 500ms (no such request, scenario or group: cart)"},
		{"checkout.dropped == 0", v, false, true, 0, "✗ checkout.dropped == 0 (no dropped data for checkout)"},
		{"never.p99 < 1s", v, false, true, 0, "✗ never.p99 < 1s (no p99 data for never)"},
		{"never.error_rate < 1%", v, false, true, 0, ""},

		// Checks come from the extra map; a scope known only there is known.
		{"checks > 99%", v, true, false, 0.995, "✓ checks > 99% (actual 99.50%)"},
		{"checks >= 99.5%", v, true, false, 0.995, ""},
		{"checkout.checks >= 90%", v, true, false, 0.9, ""},
		{"browse.checks > 50%", v, false, false, 0.5, ""},
		{"browse.p99 < 1s", v, false, true, 0, "✗ browse.p99 < 1s (no p99 data for browse)"},
		{"empty.checks > 0%", v, false, true, 0, ""},
		{`"list products".checks > 99%`, v, false, true, 0, `✗ "list products".checks > 99% (no checks data for list products)`},
		{"checks > 99%", noChecks, false, true, 0, "✗ checks > 99% (no checks data)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r := mustParse(t, tt.in).Eval(tt.v)
			if r.Pass != tt.pass || r.Missing != tt.missing || !near(r.Actual, tt.actual) {
				t.Errorf("%v: pass %v missing %v actual %v, want %v %v %v", r, r.Pass, r.Missing, r.Actual, tt.pass, tt.missing, tt.actual)
			}
			if tt.str != "" && r.String() != tt.str {
				t.Errorf("String() = %q\n          want %q", r.String(), tt.str)
			}
		})
	}
}

func TestSummaryValuesEdges(t *testing.T) {
	t.Run("nil summary", func(t *testing.T) {
		v := SummaryValues(nil, nil)
		if got, ok := v.Value("", Requests); !ok || got != 0 {
			t.Errorf("requests = %v, %v; want 0, true", got, ok)
		}
		if _, ok := v.Value("", P99); ok {
			t.Error("p99 of no requests is known")
		}
	})
	t.Run("duplicate and empty names", func(t *testing.T) {
		s := &report.Summary{Requests: 3, ByName: []report.NameSummary{
			{Name: "", Requests: 1}, {Name: "a", Requests: 2}, {Name: "a", Requests: 9},
		}}
		v := SummaryValues(s, nil)
		if got, _ := v.Value("", Requests); got != 3 {
			t.Errorf("whole run requests = %v, want 3 (not the unnamed request)", got)
		}
		if got, _ := v.Value("a", Requests); got != 2 {
			t.Errorf("a.requests = %v, want 2 (the first of two)", got)
		}
	})
	t.Run("unknown metric", func(t *testing.T) {
		if _, ok := SummaryValues(shopSummary(), nil).Value("", "p98"); ok {
			t.Error("p98 is known")
		}
	})
}
