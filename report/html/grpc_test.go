package html_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html/htmltest"
)

// grpcRun is a quick-mode gRPC run of 3 s against a service that answers
// every tenth call Unavailable: 270 OK (200) and 30 Unavailable (503),
// under the method's name, as grpccall records them. mixed adds an HTTP
// name that answers 404 and a WebSocket handshake, as a plan's steps.
func grpcRun(mixed bool) *report.Summary {
	names, protos := []string{"fuka.demo.Cart/Flaky"}, []string{report.ProtoGRPC}
	if mixed {
		names, protos = append(names, "GET /missing", "ws connect /chat"), append(protos, "", report.ProtoWS)
	}
	rec := metrics.NewRecorder(len(names))
	col := metrics.NewCollector(names, []*metrics.Recorder{rec})
	out := func(name, status int) metrics.Outcome {
		return metrics.Outcome{Latency: time.Millisecond, Service: time.Millisecond, Status: status, BytesIn: 20, BytesOut: 16}
	}
	for s := 1; s <= 3; s++ {
		for i := range 100 {
			st := 200
			if i%10 == 9 {
				st = 503
			}
			rec.Record(0, out(0, st))
			if mixed && i < 5 {
				rec.Record(1, out(1, 404))
				rec.Record(2, out(2, 101))
			}
		}
		col.Tick(time.Duration(s)*time.Second, 4)
	}
	meta := report.Meta{
		Target: "grpc://127.0.0.1:9090", Method: "fuka.demo.Cart/Flaky", Model: report.ModelClosed, Clients: 4,
		Planned: 3 * time.Second, Elapsed: 3 * time.Second, Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Version: "v0.1.0", Protocols: protos,
	}
	if mixed {
		meta.Name, meta.Target, meta.Method = "shop", "http://127.0.0.1:8080", ""
	}
	s := report.NewSummary(meta, col.Run())
	s.SetTransport("net/http")
	return s
}

// TestBrowserGRPC: a gRPC run's report, in Chromium, reads right for
// someone new to fuka: it says the run was gRPC and how a call counts,
// failures are non-OK codes (not "HTTP ≥ 400"), each status names its
// code, one a line in the tables, without squeezing the request names
// into broken words. A plan that mixes protocols says each
// name's. It leaves a screenshot in testdata/artifacts/report-grpc.png.
func TestBrowserGRPC(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mixed    bool
		protocol string
		failed   string
		status   []string // the all-requests row's statuses, one a line
		rows     map[string]string
		// errUnit and errSeries are the Errors chart's caption and its
		// series, each "label: values per second".
		errUnit   string
		errSeries []string
	}{
		{
			name: "quick mode", protocol: "gRPC: a call counts as a request; it fails on a code other than OK",
			failed:    "30 (10.00%): 30 gRPC non-OK, 0 transport errors",
			status:    []string{"200 OK (gRPC 0) × 270,", "503 Unavailable (gRPC 14) × 30"},
			rows:      map[string]string{"fuka.demo.Cart/Flaky": "200 OK (gRPC 0) × 270, 503 Unavailable (gRPC 14) × 30"},
			errUnit:   "failed calls per second: a code other than OK, or no answer (by kind)",
			errSeries: []string{"gRPC non-OK: 10,10,10"},
		},
		{
			name: "mixed plan", mixed: true,
			protocol: "HTTP; gRPC: a call counts as a request; it fails on a code other than OK; " +
				"WebSocket: a handshake (101) and a message (200: sent, or matched by an expect) count as requests",
			failed: "45 (13.64%): 15 HTTP ≥ 400, 30 gRPC non-OK, 0 transport errors",
			rows: map[string]string{
				"fuka.demo.Cart/Flaky": "200 OK (gRPC 0) × 270, 503 Unavailable (gRPC 14) × 30",
				"GET /missing":         "404 × 15",
				"ws connect /chat":     "101 ws handshake × 15",
			},
			errUnit:   "failed requests by kind, per second",
			errSeries: []string{"failed: 15,15,15"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := htmltest.Start(t)
			url := "file://" + writePage(t, grpcRun(tc.mixed))
			tab.Open(t, url)
			tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")
			type row struct {
				Name, Status string
				StatusLines  []string
				MidWord      bool
				Break        string
			}
			type state struct {
				Facts map[string]string
				Rows  []row
				Text  string
				Wide  bool
			}
			st := htmltest.Eval[state](t, tab, `(() => {
			  const facts = {};
			  document.querySelectorAll(".facts dt").forEach(dt => { facts[dt.textContent] = dt.nextElementSibling.innerText; });
			  // midWord: the name's text breaks to a new line inside a word (not after a "/" or a space).
			  const midWord = el => { const n = el.firstChild, r = document.createRange(); let top = null;
			    for (let i = 0; i < n.length; i++) { r.setStart(n, i); r.setEnd(n, i + 1);
			      const t = Math.round(r.getBoundingClientRect().top);
			      if (top !== null && t > top && !"/ ".includes(n.data[i - 1]) && n.data[i] !== " ") { window.__brk = n.data.slice(0, i) + "|" + n.data.slice(i); return true; }
			      top = t; }
			    return false; };
			  const rows = Array.from(document.querySelectorAll("table.num tr")).filter(tr => tr.querySelector("td.status")).map(tr => {
			    const name = tr.querySelector("td.name"), status = tr.querySelector("td.status");
			    return {Name: name.textContent, Status: status.querySelector("span.line") ? Array.from(status.querySelectorAll("span.line")).map(s => s.textContent.replaceAll("\u00a0", " ")).join(" ") : status.textContent,
			      StatusLines: Array.from(status.querySelectorAll("span.line")).map(s => s.textContent.replaceAll("\u00a0", " ")), MidWord: midWord(name), Break: window.__brk || ""};
			  });
			  return {Facts: facts, Rows: rows, Text: document.body.innerText,
			    Wide: document.documentElement.scrollWidth > window.innerWidth ||
			      Array.from(document.querySelectorAll(".scroll")).some(d => d.scrollWidth > d.clientWidth)};
			})()`)
			if strings.Contains(st.Text, "HTTP ≥ 400") != tc.mixed {
				t.Errorf("the page says HTTP ≥ 400: %v, want %v", !tc.mixed, tc.mixed)
			}
			if st.Facts["protocol"] != tc.protocol {
				t.Errorf("protocol %q, want %q", st.Facts["protocol"], tc.protocol)
			}
			if st.Facts["failed"] != tc.failed {
				t.Errorf("failed %q, want %q", st.Facts["failed"], tc.failed)
			}
			if !strings.Contains(st.Facts["status"], "503 Unavailable (gRPC 14) × 30") {
				t.Errorf("status %q does not name the gRPC code", st.Facts["status"])
			}
			seen := 0
			for _, r := range st.Rows {
				if want, ok := tc.rows[r.Name]; ok {
					seen++
					if r.Status != want {
						t.Errorf("%s: status %q, want %q", r.Name, r.Status, want)
					}
				}
				if r.MidWord {
					t.Errorf("%s: the name breaks inside a word (%s): the status cell squeezes it", r.Name, r.Break)
				}
				if r.Name == "all requests" && tc.status != nil && strings.Join(r.StatusLines, "|") != strings.Join(tc.status, "|") {
					t.Errorf("all requests: status lines %q, want %q (one status a line)", r.StatusLines, tc.status)
				}
			}
			if seen != len(tc.rows) {
				t.Errorf("rows %+v, want %v", st.Rows, tc.rows)
			}
			type chart struct {
				Unit   string
				Series []string
			}
			errs := htmltest.Eval[[]chart](t, tab, `window.fukaReport.charts().filter(u =>
			    u.root.closest("figure").querySelector("figcaption").firstChild.textContent === "Errors").map(u => ({
			  Unit: u.root.closest("figure").querySelector("figcaption span").textContent,
			  Series: u.series.slice(1).map((s, i) => s.label + ": " + u.data[i + 1].join(","))
			}))`)
			if len(errs) != 1 || errs[0].Unit != tc.errUnit || strings.Join(errs[0].Series, "|") != strings.Join(tc.errSeries, "|") {
				t.Errorf("Errors chart %+v, want unit %q, series %q", errs, tc.errUnit, tc.errSeries)
			}
			if st.Wide {
				t.Error("the page, or a table in it, is wider than the window")
			}
			if p := tab.Problems(t); len(p) > 0 {
				t.Errorf("problems on the page: %q", p)
			}
			if !tc.mixed {
				tab.Screenshot(t, filepath.Join("testdata", "artifacts", "report-grpc.png"))
			}
		})
	}
}
