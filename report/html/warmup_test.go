package html_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html/htmltest"
)

// TestWarmupFacts: an open-model run's pre-connect and its connects are in
// the report's facts; a closed run has neither.
func TestWarmupFacts(t *testing.T) {
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector([]string{"GET /"}, []*metrics.Recorder{rec})
	col.Run().CountsConnects = true
	for s := 1; s <= 2; s++ {
		rec.Record(0, metrics.Outcome{Latency: time.Millisecond, Service: time.Millisecond, Status: 200})
		rec.Connect()
		col.Tick(time.Duration(s)*time.Second, 1)
	}
	meta := report.Meta{
		Target: "http://127.0.0.1:8080/", Method: "GET", Model: report.ModelOpen, Planned: 2 * time.Second, Elapsed: 2 * time.Second,
		Warmup: report.WarmupOf(20, 18, 2, "connect: connection refused", 3*time.Millisecond, 100*time.Microsecond, time.Millisecond),
	}
	sum := report.NewSummary(meta, col.Run())
	page := render(t, sum)
	for _, want := range []string{"<dt>pre-connected</dt>", "18 of 20 before the start", "2 failed: connect: connection refused", "<dt>connects during the run</dt>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if page := render(t, quickRun()); strings.Contains(page, "<dt>pre-connected</dt>") {
		t.Error("a closed run's page speaks of pre-connecting")
	}

	// In a browser: the timeline has a "New connections" chart.
	tab := htmltest.Start(t)
	tab.Open(t, "file://"+writePage(t, sum))
	tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")
	if !htmltest.Eval[bool](t, tab, `document.body.innerText.includes("New connections")`) {
		t.Error("no New connections chart")
	}
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
}
