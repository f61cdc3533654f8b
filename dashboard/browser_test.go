package dashboard

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html/htmltest"
)

// TestBrowser follows a run in headless Chromium: the totals and charts
// change with each publish, and the stop button (pressed twice, as it asks)
// stops the run once.
func TestBrowser(t *testing.T) {
	tab := htmltest.Start(t)
	stopped := make(chan struct{})
	s := start(t, "s3cret", func() { close(stopped) }) // a second call would panic
	run := newLiveRun()

	s.Publish(run.second(120)) // before the page opens: it starts from this
	tab.Open(t, s.URL())
	total := `document.getElementById("total-requests").textContent`
	tab.WaitFor(t, "the first summary", total+` === "120"`)
	points := `window.fukaDashboard.charts().map(u => u.data[0].length)`
	if p := htmltest.Eval[[]int](t, tab, points); len(p) < 4 || p[0] != 1 {
		t.Fatalf("points per chart after one second: %v; want at least 4 charts with 1 point", p)
	}

	for _, step := range []struct {
		n          int
		total      string
		wantPoints int
	}{{250, "370", 2}, {900, "1,270", 3}} {
		before := htmltest.Eval[string](t, tab, total)
		s.Publish(run.second(step.n))
		tab.WaitFor(t, "total "+step.total, total+` === "`+step.total+`"`)
		p := htmltest.Eval[[]int](t, tab, points)
		for i, n := range p {
			if n != step.wantPoints {
				t.Errorf("after %s requests chart %d has %d points, want %d (all: %v)", step.total, i, n, step.wantPoints, p)
			}
		}
		if before == step.total {
			t.Errorf("total requests did not change: %s", before)
		}
	}
	canvases := htmltest.Eval[[][2]int](t, tab, `Array.from(document.querySelectorAll("canvas")).map(c => [c.width, c.height])`)
	if len(canvases) < 4 {
		t.Errorf("%d canvases, want at least 4", len(canvases))
	}
	for i, c := range canvases {
		if c[0] < 200 || c[1] < 100 {
			t.Errorf("canvas %d is %dx%d", i, c[0], c[1])
		}
	}
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", "dashboard.png"))

	// The first click only arms the button.
	if err := chromedp.Do(tab.Ctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
		t.Fatal("one click stopped the run")
	case <-time.After(200 * time.Millisecond):
	}
	if err := chromedp.Do(tab.Ctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the stop button did not stop the run")
	}
	tab.WaitFor(t, "the page to say it stops", `document.getElementById("status").textContent.startsWith("stopping")`)

	// Names from the plan and the target reach the page as text only.
	s.Publish(htmltest.Sample(5, htmltest.Hostile))
	tab.WaitFor(t, "the hostile summary", `document.getElementById("run-name").textContent === "shop" + `+"`"+htmltest.Hostile+"`")
	tab.WaitFor(t, "the resource charts", `!document.getElementById("resources").hidden && document.querySelectorAll("#resource-charts canvas").length > 0`)
	if xss := htmltest.Eval[any](t, tab, `window.__xss === undefined ? null : window.__xss`); xss != nil {
		t.Errorf("injected script ran: window.__xss = %v", xss)
	}
	if n := htmltest.Eval[int](t, tab, `document.images.length + document.querySelectorAll("[onerror],[onload]").length`); n != 0 {
		t.Errorf("%d injected elements on the page", n)
	}

	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
	origin := "http://" + s.ln.Addr().String() + "/"
	for _, r := range tab.Requests() {
		if !strings.HasPrefix(r, origin) && !strings.HasPrefix(r, "data:") {
			t.Errorf("the page requested %s", r)
		}
	}
}

// TestBrowserEnd: when the run finishes, the page shows its final numbers,
// whether its thresholds passed and a link to its report, hides the stop
// button, and stays so after the dashboard closes: no "reconnecting…".
func TestBrowserEnd(t *testing.T) {
	tab := htmltest.Start(t)
	s, err := New("127.0.0.1:0", "", func() {})
	if err != nil {
		t.Fatal(err)
	}
	run := newLiveRun()
	s.Publish(run.second(120))
	tab.Open(t, s.URL())
	tab.WaitFor(t, "the run to be live", `document.getElementById("status").textContent === "live"`)
	s.Publish(run.second(80))

	sum := run.second(40)
	sum.Thresholds = []report.ThresholdResult{{Expr: "p99 < 1ms", Pass: false, Detail: "✗ p99 < 1ms (actual 3ms)"}, {Expr: "error_rate < 1%", Pass: true}}
	sum.ReportFile = filepath.Join(t.TempDir(), "report.html")
	s.Finish(sum)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tab.WaitFor(t, "the end", `window.fukaDashboard.finished()`)
	time.Sleep(2500 * time.Millisecond) // longer than the events' retry: a reconnect would show by now

	type end struct {
		Status, Verdict, Totals, Requests, Link, LinkText string
		FinalShown, StopShown, ReportShown                bool
	}
	got := htmltest.Eval[end](t, tab, `(() => {
	  const $ = id => document.getElementById(id), stop = $("stop");
	  return {Status: $("status").textContent, Verdict: $("final-verdict").textContent, Totals: $("totals-title").textContent,
	    Requests: $("total-requests").textContent, Link: $("report-link").getAttribute("href"), LinkText: $("report-link").textContent,
	    FinalShown: !$("final").hidden, StopShown: !!stop && (!stop.hidden || !stop.disabled), ReportShown: !$("final-report").hidden};
	})()`)
	want := end{
		Status: "finished", Verdict: "The run has finished: 1 of 2 thresholds not met", Totals: "Final", Requests: "240",
		Link: "file://" + filepath.ToSlash(sum.ReportFile), LinkText: sum.ReportFile,
		FinalShown: true, StopShown: false, ReportShown: true,
	}
	if got != want {
		t.Errorf("the page at the end:\n%+v\nwant\n%+v", got, want)
	}
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", "dashboard-end.png"))
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
}
