package html_test

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html"
	"github.com/fuka-load/fuka/report/html/htmltest"
)

// wsSample is a WebSocket run of seconds: clients connect one more each
// second up to 10, each sending 20 messages a second and reading 2 answers
// per message; the server closes 3 connections with 1008 at the end. A
// monitored series (cpu.user_pct) runs on the same timeline.
func wsSample(seconds int) *report.Summary {
	names := []string{"ws /chat", "ws connect /chat"}
	rec := metrics.NewRecorder(len(names))
	col := metrics.NewCollector(names, []*metrics.Recorder{rec})
	open := 0
	for s := 1; s <= seconds; s++ {
		if open < 10 {
			rec.Record(1, metrics.Outcome{Latency: 2 * time.Millisecond, Service: 2 * time.Millisecond, Status: 101})
			rec.OpenWS(1)
			open++
		}
		for range open * 20 {
			rec.Record(0, metrics.Outcome{Latency: 3 * time.Millisecond, Service: 3 * time.Millisecond, Status: 200, BytesIn: 40, BytesOut: 20, MsgsIn: 2, MsgsOut: 1})
		}
		if s == 4 { // two connections open for a moment
			rec.OpenWS(2)
			rec.OpenWS(-2)
		}
		if s == seconds {
			for range 3 {
				rec.Record(0, metrics.Outcome{Latency: time.Millisecond, Err: metrics.ErrReset, MsgsOut: 1, Close: 1008})
				rec.OpenWS(-1)
			}
		}
		col.Tick(time.Duration(s)*time.Second, open)
	}
	sum := report.NewSummary(report.Meta{
		Target: "ws://127.0.0.1:8080/chat", Method: "WS", Model: report.ModelClosed, Clients: 10,
		Planned: time.Duration(seconds) * time.Second, Elapsed: time.Duration(seconds) * time.Second,
		Started: time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC), Version: "v0.1.0-test",
		Protocols: []string{"ws", "ws"},
	}, col.Run())
	res := &report.Resources{Series: []report.ResourceStat{{Name: "cpu.user_pct", Peak: 50, Mean: 30, Samples: seconds}}}
	for i, p := range sum.Timeline {
		res.Timeline = append(res.Timeline, report.ResourcePoint{TS: p.TS, Values: map[string]float64{"cpu.user_pct": 5 + 4*float64(i)}})
	}
	sum.Resources = res
	return sum
}

// TestBrowserWebSocket: a WebSocket run's report draws the open
// connections and the messages in/out per second from the JSON timeline,
// on the time axis every chart shares with the monitored series (one
// zoom), and lists the totals and close codes.
func TestBrowserWebSocket(t *testing.T) {
	tab := htmltest.Start(t)
	sum := wsSample(12)
	url := "file://" + writePage(t, sum)
	tab.Open(t, url)
	tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
	onlyThePage(t, tab, url)

	// Each chart by its figure's id: its caption and its series' data.
	type chart struct {
		Caption string       `json:"caption"`
		Labels  []string     `json:"labels"`
		Dashed  []bool       `json:"dashed"`
		Data    [][]*float64 `json:"data"`
	}
	get := func(id string) *chart {
		t.Helper()
		c := htmltest.Eval[*chart](t, tab, `(() => {
		  const u = window.fukaReport.charts().find(u => u.root.closest("figure").id === "`+id+`");
		  if (!u) return null;
		  return {caption: u.root.closest("figure").querySelector("figcaption").firstChild.textContent,
		    labels: u.series.slice(1).map(s => s.label), dashed: u.series.slice(1).map(s => !!s.dash), data: u.data.slice(1)};
		})()`)
		if c == nil {
			t.Fatalf("no chart #%s", id)
		}
		return c
	}
	open, msgs := get("chart-ws-open"), get("chart-ws-messages")
	if open.Caption != "Open WebSocket connections" || msgs.Caption != "WebSocket messages" ||
		!slices.Equal(open.Labels, []string{"at the end", "most at once"}) || !slices.Equal(msgs.Labels, []string{"in", "out"}) {
		t.Errorf("captions %q, %q; series %q, %q", open.Caption, msgs.Caption, open.Labels, msgs.Labels)
	}
	// Where the two are equal (most seconds) the solid line shows through the dashed one.
	if !slices.Equal(open.Dashed, []bool{false, true}) || !slices.Equal(msgs.Dashed, []bool{false, true}) {
		t.Errorf("series dashed: open connections %v, messages %v; want the second of each", open.Dashed, msgs.Dashed)
	}
	for i, p := range sum.Timeline {
		if len(open.Data) != 2 || len(msgs.Data) != 2 || i >= len(open.Data[0]) || i >= len(msgs.Data[0]) {
			t.Fatalf("chart data %v, %v", open.Data, msgs.Data)
		}
		if v, pk := open.Data[0][i], open.Data[1][i]; v == nil || *v != float64(*p.WSOpen) || pk == nil || *pk != float64(*p.WSOpenPeak) {
			t.Errorf("open connections at %vs drawn as %v (peak %v), want %d (%d)", p.TS, fmtPtr(v), fmtPtr(pk), *p.WSOpen, *p.WSOpenPeak)
		}
		if in, out := msgs.Data[0][i], msgs.Data[1][i]; in == nil || out == nil || *in != float64(*p.MessagesIn)/p.SpanS || *out != float64(*p.MessagesOut)/p.SpanS {
			t.Errorf("messages at %vs drawn as in %v out %v, want %d and %d per second", p.TS, fmtPtr(in), fmtPtr(out), *p.MessagesIn, *p.MessagesOut)
		}
	}
	// One time axis with the monitors: zooming the WebSocket chart zooms
	// the CPU chart, and the other way round.
	htmltest.Eval[any](t, tab, `window.fukaReport.charts().find(u => u.root.closest("figure").id === "chart-ws-messages").setScale("x", {min: 3, max: 7})`)
	if !htmltest.Eval[bool](t, tab, `(() => {
	  const cs = window.fukaReport.charts(), cpu = cs.find(u => u.root.closest("figure").id.startsWith("chart-cpu"));
	  return !!cpu && cs.every(u => u.scales.x.min === 3 && u.scales.x.max === 7);
	})()`) {
		t.Error("zooming the WebSocket messages chart does not zoom the monitors' charts")
	}
	htmltest.Eval[any](t, tab, `window.fukaReport.charts().find(u => u.root.closest("figure").id.startsWith("chart-cpu")).setScale("x", {min: 1, max: 12})`)
	if !htmltest.Eval[bool](t, tab, `(() => { const u = window.fukaReport.charts().find(u => u.root.closest("figure").id === "chart-ws-open"); return u.scales.x.min === 1 && u.scales.x.max === 12; })()`) {
		t.Error("zooming the CPU chart does not zoom the open connections chart")
	}
	text := htmltest.Eval[string](t, tab, `document.body.innerText`)
	if p := sum.Timeline[3]; *p.WSOpenPeak != *p.WSOpen+2 {
		t.Fatalf("the sample's spike: open %d peak %d", *p.WSOpen, *p.WSOpenPeak)
	}
	for _, want := range []string{"peak 10, at the end 7", "1008 policy violation ×3 (counted as reset errors)", "0 handshakes refused (HTTP ≥ 400), 3 transport errors"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", "websocket.png"))
}

// An HTTP run's report has no WebSocket charts.
func TestBrowserNoWebSocketCharts(t *testing.T) {
	tab := htmltest.Start(t)
	tab.Open(t, "file://"+writePage(t, htmltest.Sample(5, "")))
	tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")
	if n := htmltest.Eval[int](t, tab, `document.querySelectorAll("#chart-ws-open, #chart-ws-messages").length`); n != 0 {
		t.Errorf("%d WebSocket charts in an HTTP run's report", n)
	}
}

// TestEveryNoteHTML: the Requests table of a WebSocket plan with every:
// rows says what they are; a run without them has no such note.
func TestEveryNoteHTML(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rows  []string
		wants string // in the note; "" for no note
	}{
		{"every sends", []string{"join", "join every", "say"}, `&#34;join every&#34;: a ws: step&#39;s every: sends`},
		{"pings", []string{"join", "join ping"}, `&#34;join ping&#34;: a ws: step&#39;s every: ping frames`},
		{"none", []string{"join", "say"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := wsSample(3)
			s.ByName = nil
			for _, n := range tc.rows {
				s.ByName = append(s.ByName, report.NameSummary{Name: n, Protocol: report.ProtoWS, Requests: 1})
			}
			var b strings.Builder
			if err := html.Write(&b, s); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			i := strings.Index(page, `<p class="note" id="every-note">`)
			if (i >= 0) != (tc.wants != "") {
				t.Fatalf("every-note present: %v, want %v", i >= 0, tc.wants != "")
			}
			if i >= 0 && !strings.Contains(page[i:], tc.wants) {
				t.Errorf("the note does not say %s: %.300s", tc.wants, page[i:])
			}
		})
	}
}

// TestTargetsFact: a plan that sends to several targets lists them in the
// run's facts; one with a single target names it.
func TestTargetsFact(t *testing.T) {
	for _, tc := range []struct {
		name    string
		target  string
		targets []string
		want    string
	}{
		{"one", "grpc://127.0.0.1:9", nil, `<dt>target</dt><dd>grpc://127.0.0.1:9</dd>`},
		{"several", "2 targets", []string{"http://127.0.0.1:8", "grpc://127.0.0.1:9"}, `<dt>targets</dt><dd>http://127.0.0.1:8, grpc://127.0.0.1:9</dd>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := wsSample(3)
			s.Name, s.Method, s.Target, s.Targets = "mixed", "", tc.target, tc.targets
			var b strings.Builder
			if err := html.Write(&b, s); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tc.want) {
				t.Errorf("the run's facts do not have %s", tc.want)
			}
		})
	}
}

// TestHandshakesFailedHTML: when every handshake failed no round trip ran;
// the round trips' row reads "–" where a healthy row reads 0.00%, and the
// handshakes' row holds the failures.
func TestHandshakesFailedHTML(t *testing.T) {
	s := wsSample(3)
	s.ByName = []report.NameSummary{
		{Name: "ws /nosuch", Protocol: report.ProtoWS},
		{Name: "ws connect /nosuch", Protocol: report.ProtoWS, Requests: 5, Failed: 5, Status: map[string]int64{"404": 5}},
	}
	var b strings.Builder
	if err := html.Write(&b, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<td class="name">ws /nosuch</td>(<td>[^<]*</td>){7}<td>–</td>`,
		`<td class="name">ws connect /nosuch</td>(<td>[^<]*</td>){7}<td class="bad">100.00%</td>`,
	} {
		if !regexp.MustCompile(want).MatchString(b.String()) {
			t.Errorf("the page does not match %s", want)
		}
	}
}
