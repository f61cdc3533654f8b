package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// TestTimelineRealSpans: each interval's rate is over its real length — the
// last one, from the last whole second to the end of the run, is 2 ms here —
// and an interval without responses has null percentiles, never 0.
func TestTimelineRealSpans(t *testing.T) {
	run := buildRun([]string{"GET /"},
		tick{at: time.Second, clients: 2, out: []batch{{0, ok(4 * time.Millisecond), 50}}},
		tick{at: 2 * time.Second, clients: 2},
		tick{at: 2*time.Second + 2*time.Millisecond, out: []batch{{0, ok(5 * time.Millisecond), 2}}},
	)
	meta := closedMeta()
	meta.Elapsed = 2*time.Second + 2*time.Millisecond
	var b bytes.Buffer
	if err := NewSummary(meta, run).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Timeline []map[string]any `json:"timeline"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"t_s": 1.0, "span_s": 1.0, "requests": 50.0, "rps": 50.0, "p50_ms": 4.0, "p99_ms": 4.0, "max_ms": 4.0},
		{"t_s": 2.0, "span_s": 1.0, "requests": 0.0, "rps": 0.0, "p50_ms": nil, "p90_ms": nil, "p95_ms": nil, "p99_ms": nil, "max_ms": nil},
		{"t_s": 2.002, "span_s": 0.002, "requests": 2.0, "rps": 1000.0, "p50_ms": 5.0, "max_ms": 5.0},
	}
	if len(got.Timeline) != len(want) {
		t.Fatalf("%d intervals, want %d", len(got.Timeline), len(want))
	}
	for i, w := range want {
		for k, wv := range w {
			gv, present := got.Timeline[i][k]
			if !present {
				t.Errorf("interval %d: no %q", i, k)
				continue
			}
			switch wv := wv.(type) {
			case nil:
				if gv != nil {
					t.Errorf("interval %d: %s = %v, want null", i, k, gv)
				}
			case float64:
				f, isNum := gv.(float64)
				if !isNum || !hdrClose(f, wv) {
					t.Errorf("interval %d: %s = %v, want %v", i, k, gv, wv)
				}
			}
		}
	}
}

// TestStartsComparedWithStarts: the open model asks for scenario starts, so
// a plan whose iterations make 2 requests each, run at 10 starts/s for 3 s,
// achieved 100% of its rate — not 200% of it because it made 20 requests a
// second. The requested rate is over the 3 s the schedule ran, not over the
// run's 3.2 s with the last responses.
func TestStartsComparedWithStarts(t *testing.T) {
	var ticks []tick
	for s := 1; s <= 3; s++ {
		ticks = append(ticks, tick{at: time.Duration(s) * time.Second, clients: 3, out: []batch{{0, ok(time.Millisecond), 10}, {1, ok(time.Millisecond), 10}}})
	}
	ticks = append(ticks, tick{at: 3200 * time.Millisecond, drop: 0})
	run := buildRun([]string{"login", "home"}, ticks...)
	meta := Meta{Name: "plan", Model: ModelOpen, Rate: "10:3s", Planned: 3 * time.Second, Elapsed: 3200 * time.Millisecond, Scheduled: 30}
	s := NewSummary(meta, run)
	got := map[string]any{
		"starts_due": deref(s.StartsDue), "starts": deref(s.Starts),
		"requested_start_rate": deref(s.RequestedStartRate), "achieved_start_ratio": deref(s.AchievedStartRatio),
		"requested_rps": deref(s.RequestedRPS), "achieved_rps_ratio": deref(s.AchievedRPSRatio),
		"requests": s.Requests, "rps": s.RPS,
	}
	want := map[string]any{
		"starts_due": int64(30), "starts": int64(30),
		"requested_start_rate": 10.0, "achieved_start_ratio": 1.0,
		"requested_rps": nil, "achieved_rps_ratio": nil,
		"requests": int64(60), "rps": 18.75,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"  starts       30 of 30 due   (requested 10/s, achieved 100.0%)   dropped 0 (0.00%)\n",
		"  requests     60   18.8/s\n",
	} {
		if !bytes.Contains(b.Bytes(), []byte(line)) {
			t.Errorf("text lacks %q:\n%s", line, b.String())
		}
	}
}

// deref reads an optional JSON value: nil for null.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestAllFailed: a run in which no request got a successful response is
// said to be one, with what happened and a hint for the usual causes.
func TestAllFailed(t *testing.T) {
	const target = "http://127.0.0.1:9/"
	tests := []struct {
		name        string
		ticks       []tick
		interrupted bool
		want        string // "" = not every request failed
	}{
		{"refused", []tick{{at: time.Second, out: []batch{{0, failure(metrics.ErrRefused, time.Millisecond), 20}}}}, false,
			"every request failed: connection refused (20) — is the target running at " + target + "?"},
		{"dns", []tick{{at: time.Second, out: []batch{{0, failure(metrics.ErrDNS, time.Millisecond), 3}}}}, false,
			"every request failed: the host name did not resolve (DNS) (3) — is the host name in " + target + " right?"},
		{"tls", []tick{{at: time.Second, out: []batch{{0, failure(metrics.ErrTLS, time.Millisecond), 4}}}}, false,
			"every request failed: TLS handshake failed (4) — a self-signed or private certificate? --insecure skips verification"},
		{"mixed, the most common first", []tick{{at: time.Second, out: []batch{
			{0, failure(metrics.ErrTimeout, time.Second), 2},
			{0, status(503, time.Millisecond), 5},
			{0, status(404, time.Millisecond), 1},
		}}}, false,
			"every request failed: HTTP 503 (5), no response within the timeout (2), HTTP 404 (1)"},
		{"one success", []tick{{at: time.Second, out: []batch{
			{0, failure(metrics.ErrRefused, time.Millisecond), 99},
			{0, status(200, time.Millisecond), 1},
		}}}, false, ""},
		{"nothing sent", nil, false, "no request was sent"},
		{"nothing sent, interrupted", nil, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := Meta{Target: target, Model: ModelClosed, Elapsed: time.Second, Interrupted: tt.interrupted}
			if got := NewSummary(meta, buildRun([]string{"GET /"}, tt.ticks...)).AllFailed(); got != tt.want {
				t.Errorf("AllFailed()\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestNameTableNoResponses: a request name that got no response shows no
// latency and no failed share ("–"), not 0µs and 0.00%.
func TestNameTableNoResponses(t *testing.T) {
	run := buildRun([]string{"home", "never"},
		tick{at: time.Second, out: []batch{{0, ok(2 * time.Millisecond), 10}}})
	var b bytes.Buffer
	if err := NewSummary(closedMeta(), run).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte("never         0  0.0       –       –       –       –\n")) {
		t.Errorf("the row of a name without responses:\n%s", b.String())
	}
}

// TestLostStartsNotCounted: a distributed run that lost a worker keeps the
// plan's starts due (the lost share included) but does not count the lost
// share's unreported starts as started.
func TestLostStartsNotCounted(t *testing.T) {
	run := buildRun([]string{"home"}, tick{at: time.Second, clients: 2, out: []batch{{0, ok(time.Millisecond), 20}}})
	meta := Meta{Name: "quick", Model: ModelOpen, Rate: "30", Planned: time.Second, Elapsed: time.Second, Scheduled: 30, LostStarts: 10}
	s := NewSummary(meta, run)
	if got := deref(s.StartsDue); got != int64(30) {
		t.Errorf("starts_due = %v, want 30 (the plan's)", got)
	}
	if got := deref(s.Starts); got != int64(20) {
		t.Errorf("starts = %v, want 20 (the lost share's 10 not counted)", got)
	}
}

// TestAllFailedTargets: the hint of a plan that sent to several targets
// names them, not "2 targets".
func TestAllFailedTargets(t *testing.T) {
	meta := Meta{Name: "mixed", Target: "2 targets", Targets: []string{"http://127.0.0.1:9", "grpc://127.0.0.1:10"}, Model: ModelClosed, Elapsed: time.Second}
	run := buildRun([]string{"GET /"}, tick{at: time.Second, out: []batch{{0, failure(metrics.ErrRefused, time.Millisecond), 20}}})
	want := "every request failed: connection refused (20) — is the target running at http://127.0.0.1:9, grpc://127.0.0.1:10?"
	if got := NewSummary(meta, run).AllFailed(); got != want {
		t.Errorf("AllFailed()\n got %q\nwant %q", got, want)
	}
}
