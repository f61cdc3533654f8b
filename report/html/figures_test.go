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
func gappyRun() *report.Summary {
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector([]string{"GET /"}, []*metrics.Recorder{rec})
	ok := metrics.Outcome{Latency: 3 * time.Millisecond, Service: 3 * time.Millisecond, Status: 200, BytesIn: 100}
	for range 100 {
		rec.Record(0, ok)
	}
	col.Tick(time.Second, 4)
	col.Tick(2*time.Second, 4) // nothing answered in this second
	for range 100 {
		rec.Record(0, ok)
	}
	col.Tick(3*time.Second, 4)
	rec.Record(0, ok)
	rec.Record(0, ok)
	col.Tick(3*time.Second+2*time.Millisecond, 0)
	return report.NewSummary(report.Meta{
		Target: "http://127.0.0.1:8080/", Method: "GET", Model: report.ModelClosed, Clients: 4,
		Planned: 3 * time.Second, Elapsed: 3*time.Second + 2*time.Millisecond, Version: "v0.1.0",
	}, col.Run())
}

// TestBrowserGaps: the charts show what was not measured as a gap, not a
// zero: no latency in a second without responses, and no rate for the last
// interval of 2 ms (its 1,000/s is in the JSON, with span_s 0.002). A
// second in which nothing was answered still has a throughput: 0.
func TestBrowserGaps(t *testing.T) {
	tab := htmltest.Start(t)
	url := "file://" + writePage(t, gappyRun())
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
	want := map[string][]any{
		"Throughput": {100.0, 0.0, 100.0, nil},
		"Latency":    {3.0, nil, 3.0, 3.0}, // p50 of each interval; the last one has 2 responses
	}
	seen := 0
	for _, s := range got {
		w, ok := want[s.Title]
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
				if v == nil || *v < wv*0.99 || *v > wv*1.01 {
					t.Errorf("%s point %d = %v, want %v", s.Title, i, fmtPtr(v), wv)
				}
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the charts %v", seen, want)
	}
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
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
