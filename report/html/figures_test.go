package html_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html/htmltest"
)

// gappyRun has a second without any response and a last interval of 2 ms
// holding 2 responses (what finished after the last whole second).
func gappyRun() *report.Summary { return tailRun(2*time.Millisecond, 2, 0) }

// tailRun is gappyRun with a last interval of the given length holding
// ok good and bad failed (500) responses.
func tailRun(tail time.Duration, ok, bad int) *report.Summary {
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector([]string{"GET /"}, []*metrics.Recorder{rec})
	good := metrics.Outcome{Latency: 3 * time.Millisecond, Service: 3 * time.Millisecond, Status: 200, BytesIn: 100}
	for range 100 {
		rec.Record(0, good)
	}
	col.Tick(time.Second, 4)
	col.Tick(2*time.Second, 4) // nothing answered in this second
	for range 100 {
		rec.Record(0, good)
	}
	col.Tick(3*time.Second, 4)
	for range ok {
		rec.Record(0, good)
	}
	failed := good
	failed.Status = 500
	for range bad {
		rec.Record(0, failed)
	}
	col.Tick(3*time.Second+tail, 0)
	return report.NewSummary(report.Meta{
		Target: "http://127.0.0.1:8080/", Method: "GET", Model: report.ModelClosed, Clients: 4,
		Planned: 3 * time.Second, Elapsed: 3*time.Second + tail, Version: "v0.1.0",
	}, col.Run())
}

// TestBrowserGaps: the charts show what was not measured as a gap, not a
// zero: no latency in a second without responses. A second in which
// nothing was answered still has a throughput: 0. The run's last, partial
// interval is drawn as what it is: 2 ms are too short for a rate and are
// not drawn at all (no fall of the clients to 0, no 1,000/s; the JSON keeps
// them, with span_s 0.002), and the page says so; 500 ms are drawn, their
// counts per second of their length (50 failures in 0.5 s: 100/s).
func TestBrowserGaps(t *testing.T) {
	tab := htmltest.Start(t)
	for _, tt := range []struct {
		name string
		sum  *report.Summary
		want map[string][]any
		note string
	}{
		{
			name: "2 ms tail", sum: gappyRun(),
			want: map[string][]any{
				"Throughput":     {100.0, 0.0, 100.0, nil},
				"Latency":        {3.0, nil, 3.0, nil}, // p50 of each interval
				"Active clients": {4.0, 4.0, 4.0, nil},
				"Errors":         {0.0, 0.0, 0.0, nil},
			},
			note: "The run's last 2 ms (2 requests finishing after the last whole second) are too short to chart as a rate",
		},
		{
			name: "2 ms tail, 1 request", sum: tailRun(2*time.Millisecond, 1, 0),
			want: map[string][]any{"Throughput": {100.0, 0.0, 100.0, nil}},
			note: "The run's last 2 ms (1 request finishing after the last whole second) are too short to chart as a rate",
		},
		{
			name: "500 ms tail", sum: tailRun(500*time.Millisecond, 25, 50),
			want: map[string][]any{
				"Throughput":     {100.0, 0.0, 100.0, 150.0},
				"Latency":        {3.0, nil, 3.0, 3.0},
				"Active clients": {4.0, 4.0, 4.0, 0.0},
				"Errors":         {0.0, 0.0, 0.0, 100.0},
			},
			note: "The run's last interval lasted 500 ms: its counts are drawn per second of that time",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := "file://" + writePage(t, tt.sum)
			tab.Open(t, url)
			tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")
			type series struct {
				Title string     `json:"title"`
				Data  []*float64 `json:"data"`
			}
			got := htmltest.Eval[[]series](t, tab, `window.fukaReport.charts().map(u => ({
			  title: u.root.closest("figure").querySelector("figcaption").firstChild.textContent,
			  data: u.data[1]
			}))`)
			seen := 0
			for _, s := range got {
				w, ok := tt.want[s.Title]
				if !ok {
					continue
				}
				seen++
				if len(s.Data) != len(w) {
					t.Errorf("%s: %d points, want %d", s.Title, len(s.Data), len(w))
					continue
				}
				for i, v := range s.Data {
					switch wv := w[i].(type) {
					case nil:
						if v != nil {
							t.Errorf("%s point %d = %v, want a gap (null)", s.Title, i, *v)
						}
					case float64:
						if v == nil || *v < wv*0.99-1e-9 || *v > wv*1.01+1e-9 {
							t.Errorf("%s point %d = %v, want %v", s.Title, i, fmtPtr(v), wv)
						}
					}
				}
			}
			if seen != len(tt.want) {
				t.Errorf("found %d of the charts %v", seen, tt.want)
			}
			note := htmltest.Eval[string](t, tab, `(() => { const n = document.getElementById("partial-note"); return n.hidden ? "" : n.textContent; })()`)
			if !strings.HasPrefix(note, tt.note) {
				t.Errorf("the note on the last interval: %q, want it to start %q", note, tt.note)
			}
			if p := tab.Problems(t); len(p) > 0 {
				t.Errorf("problems on the page: %q", p)
			}
		})
	}
}

func fmtPtr(v *float64) any {
	if v == nil {
		return "null"
	}
	return *v
}

// TestFailedNamed: the report says what the failed requests were — error
// responses or transport errors — beside the transport errors' own line, so
// "failed 461" next to "errors none" cannot be misread.
func TestFailedNamed(t *testing.T) {
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector([]string{"GET /"}, []*metrics.Recorder{rec})
	for range 539 {
		rec.Record(0, metrics.Outcome{Latency: time.Millisecond, Status: 200})
	}
	for i := range 461 {
		st := 503
		if i < 61 {
			st = 400 // a client error is a failed response too
		}
		rec.Record(0, metrics.Outcome{Latency: time.Millisecond, Status: st})
	}
	col.Tick(time.Second, 1)
	page := render(t, report.NewSummary(report.Meta{Model: report.ModelClosed, Elapsed: time.Second}, col.Run()))
	for _, want := range []string{
		`<dt>failed</dt><dd class="bad">461 (46.10%): 461 HTTP ≥ 400, 0 transport errors</dd>`,
		`<dt>transport errors</dt><dd>none</dd>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
