package html_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	stdhtml "html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html"
	"github.com/fuka-load/fuka/report/html/htmltest"
)

func render(t *testing.T, s *report.Summary) string {
	t.Helper()
	var b bytes.Buffer
	if err := html.Write(&b, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String()
}

// quickRun is a closed-model quick-mode run: one name, no plan extras.
func quickRun() *report.Summary {
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector([]string{"GET /"}, []*metrics.Recorder{rec})
	for s := 1; s <= 3; s++ {
		for range 100 {
			rec.Record(0, metrics.Outcome{Latency: 2 * time.Millisecond, Service: 2 * time.Millisecond, Status: 200, BytesIn: 100})
		}
		col.Tick(time.Duration(s)*time.Second, 4)
	}
	return report.NewSummary(report.Meta{
		Target: "http://127.0.0.1:8080/", Method: "GET", Model: report.ModelClosed, Clients: 4,
		Planned: 3 * time.Second, Elapsed: 3 * time.Second, Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Version: "v0.1.0",
	}, col.Run())
}

func TestWriteSections(t *testing.T) {
	tests := []struct {
		name    string
		sum     *report.Summary
		want    []string
		notWant []string
	}{
		{
			name: "quick closed run",
			sum:  quickRun(),
			want: []string{
				`<section id="verdict" class="verdict none">`, "No thresholds: nothing to pass or fail",
				`<section id="summary">`, `<section id="requests">`, `<section id="charts">`, `id="load-charts"`,
				"fuka report — GET http://127.0.0.1:8080/", "closed (clients)", "the send", "v0.1.0",
				"2025-01-02 03:04:05 UTC", "<td>300</td>", "<td>100</td>", "200 × 300", "all requests",
			},
			notWant: []string{
				`id="phases"`,
				`id="thresholds"`, `id="checks"`, `id="warnings"`, `id="resources"`, `id="profiles"`, `id="scaling"`,
				"<dt>dropped starts</dt>", `class="badge warn">interrupted`,
			},
		},
		{
			name: "plan with everything",
			sum:  htmltest.Sample(30, ""),
			want: []string{
				`<section id="warnings"`, "the load generator used 96% of its CPU",
				`<section id="verdict" class="verdict fail">`, "Failed: 1 of 2 thresholds not met", `<div id="thresholds">`, "1 of 2 passed", "p99 &lt; 300ms", "thresholds failed", "(actual ",
				`<section id="checks">`, "checkout: status 201", "1,289 / 1,298", // checkout's own checks
				"list products", "product page", "open (arrival rate)", "the intended start", "dropped starts",
				"timeout × ", "requested rate",
				`<section id="resources">`, `id="res-1-charts"`, "cpu.user_pct", "Sampler failures", "502 Bad Gateway",
				`<section id="profiles">`, "encoding/json.(*encodeState).marshal", "28.4%", "1.42s", "24.0 MiB",
				"capture failed: connection refused", `href="profiles/cpu-18s.pb.gz"`,
			},
		},
		{
			name: "autoscaling",
			sum: func() *report.Summary {
				s := quickRun()
				ready, tts := 23.0, 11.0
				s.Scaling = []report.ScaleEpisode{
					{Workload: "deployment/api", FromReplicas: 1, ToReplicas: 4, LoadStepS: 12, ScaleOutS: 15, ReadyS: &ready, TimeToScaleS: &tts, P99DuringMS: 180, P99MeanDuringMS: 95},
					{Workload: "deployment/<b>x</b>", FromReplicas: 2, ToReplicas: 3, LoadStepS: 40, ScaleOutS: 44, P99DuringMS: 250},
				}
				return s
			}(),
			want: []string{
				`<section id="scaling">`, `href="#scaling"`, "deployment/api", "1 → 4", "<td>12s</td>", "<td>23s</td>", "<td>11s</td>",
				"not ready by the end", "deployment/&lt;b&gt;x&lt;/b&gt;",
			},
		},
		{
			name: "retries",
			sum: func() *report.Summary {
				s := quickRun()
				s.Retried, s.ByName[0].Retried = 7, 7
				return s
			}(),
			want: []string{
				"<th>errors</th><th>retried</th>", "<dt>retried</dt><dd>7</dd>",
				`<td class="name">GET /</td><td>300</td><td>100</td><td>2.00ms</td><td>2.00ms</td><td>2.00ms</td><td>2.00ms</td><td>2.00ms</td><td>0.00%</td><td>7</td>`,
			},
		},
		{
			name: "phases",
			sum: func() *report.Summary {
				s := quickRun()
				s.Transport = "fast"
				s.ByName[0].Phases = &report.PhaseSummary{Timed: 300, NewConnections: 4,
					Connect:  &report.PhaseStat{Count: 4, P50MS: 0.12, P99MS: 0.4},
					TTFB:     &report.PhaseStat{Count: 300, P50MS: 1.5, P99MS: 1.9},
					Transfer: &report.PhaseStat{Count: 300, P50MS: 0.01, P99MS: 0.02}}
				return s
			}(),
			want: []string{
				`<section id="phases">`, `href="#phases"`, "dns –: the fast path resolves the host once",
				`<td class="name">GET /</td><td>300</td><td>4</td><td>–</td><td>120µs / 400µs</td><td>–</td><td>1.50ms / 1.90ms</td><td>10µs / 20µs</td>`,
			},
		},
		{
			name: "interrupted, every request failed",
			sum: func() *report.Summary {
				s := quickRun()
				s.Interrupted, s.EndReason = true, report.EndInterrupted
				s.Failed = s.Requests
				s.Errors[metrics.ErrRefused] = s.Requests
				return s
			}(),
			want: []string{
				`<section id="verdict" class="verdict fail">`, "Failed: every request failed: connection refused",
				`<p class="note">The run ended early: `, `<b class="bad">100.00%</b><span>failed</span>`,
			},
		},
		{
			name: "thresholds passed",
			sum: func() *report.Summary {
				s := quickRun()
				s.Thresholds = []report.ThresholdResult{{Expr: "p99 < 300ms", Pass: true, Detail: "✓ p99 < 300ms (actual 2ms)"}}
				return s
			}(),
			want:    []string{`<section id="verdict" class="verdict pass">`, "Passed: 1 threshold met"},
			notWant: []string{"ended early"},
		},
		{
			name:    "empty run",
			sum:     report.NewSummary(report.Meta{Model: report.ModelClosed}, nil),
			want:    []string{"The run recorded no timeline", `<section id="requests">`, "<title>fuka report</title>"},
			notWant: []string{`id="load-charts"`, `id="resources"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.sum)
			// Top-down: the verdict, the findings' place, then the numbers.
			last := -1
			for _, id := range []string{`id="verdict"`, `id="findings"`, `id="warnings"`, `id="summary"`, `id="requests"`, `id="charts"`, `id="resources"`, `id="profiles"`} {
				if i := strings.Index(out, "<section "+id); i >= 0 {
					if i < last {
						t.Errorf("section %s is out of order", id)
					}
					last = i
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

var (
	metaCSP    = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)
	inlineJS   = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	inlineSt   = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	dataJSON   = regexp.MustCompile(`(?s)<script type="application/json" id="fuka-data">(.*?)</script>`)
	layoutJSON = regexp.MustCompile(`(?s)<script type="application/json" id="fuka-layout">(.*?)</script>`)
	anyTag     = regexp.MustCompile(`(?i)<(script|style|img|svg|iframe|object|embed|link|meta|base)\b`)
)

// TestCSP: the policy lists exactly the hashes of the page's inline blocks,
// and nothing that would let other script or style in.
func TestCSP(t *testing.T) {
	out := render(t, htmltest.Sample(10, htmltest.Hostile))
	m := metaCSP.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no CSP meta tag")
	}
	csp := stdhtml.UnescapeString(m[1])
	for _, want := range []string{"default-src 'none'", "img-src data:", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q allows %q", csp, bad)
		}
	}
	scripts := inlineJS.FindAllStringSubmatch(out, -1)
	styles := inlineSt.FindAllStringSubmatch(out, -1)
	if len(scripts) != 3 || len(styles) != 1 {
		t.Fatalf("%d inline scripts and %d styles, want 3 and 1", len(scripts), len(styles))
	}
	var wantScripts, wantStyles []string
	for _, s := range scripts {
		wantScripts = append(wantScripts, s[1])
	}
	for _, s := range styles {
		wantStyles = append(wantStyles, s[1])
	}
	if want := html.CSP(wantScripts, wantStyles); csp != want {
		t.Errorf("CSP\n %s\nwant (hashes of the blocks on the page)\n %s", csp, want)
	}
}

// TestHostileText: every text from the run is escaped, and the embedded data
// gives back the summary as it was.
func TestHostileText(t *testing.T) {
	sum := htmltest.Sample(10, htmltest.Hostile)
	out := render(t, sum)

	// The page's own tags only: 5 scripts (data, layout, uPlot, timeline, report),
	// 1 style, 3 meta; the payloads' tags are all escaped.
	counts := map[string]int{}
	for _, m := range anyTag.FindAllStringSubmatch(out, -1) {
		counts[strings.ToLower(m[1])]++
	}
	want := map[string]int{"script": 5, "style": 1, "meta": 4, "link": 1}
	for tag, n := range counts {
		if want[tag] != n {
			t.Errorf("%d <%s> tags on the page, want %d", n, tag, want[tag])
		}
	}
	if strings.Contains(out, `href="javascript:`) || !strings.Contains(out, `href="#ZgotmplZ"`) {
		t.Error("a javascript: URL reached a link")
	}

	if l := layoutJSON.FindStringSubmatch(out); l == nil || strings.ContainsAny(l[1], "<>&") || !strings.Contains(l[1], `\u003c`) {
		t.Errorf("the layout block is missing, or has a series name's <, > or & unescaped: %v", l)
	}
	m := dataJSON.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no data block")
	}
	if strings.ContainsAny(m[1], "<>&") {
		t.Errorf("data block has an unescaped <, > or &")
	}
	var back report.Summary
	if err := json.Unmarshal([]byte(m[1]), &back); err != nil {
		t.Fatalf("data block: %v", err)
	}
	var a, b bytes.Buffer
	if err := sum.WriteJSON(&a); err != nil {
		t.Fatal(err)
	}
	if err := back.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("the data block does not give back the summary")
	}
	if back.Name != "shop"+htmltest.Hostile {
		t.Errorf("name from the data block = %q", back.Name)
	}
}

func TestWriteNil(t *testing.T) {
	var b bytes.Buffer
	if err := html.Write(&b, nil); err == nil || b.Len() != 0 {
		t.Errorf("Write(nil) = %v with %d bytes; want an error and nothing written", err, b.Len())
	}
}

// The vendored chart library must be inlinable as it is: nothing in it may
// end its <script> block or open an HTML comment there.
func TestAssetsInlinable(t *testing.T) {
	for name, js := range map[string]string{"ChartJS": html.ChartJS, "ChartsJS": html.ChartsJS, "CapacityJS": html.CapacityJS} {
		if len(js) < 200 {
			t.Errorf("%s is %d bytes: not embedded?", name, len(js))
		}
		l := strings.ToLower(js)
		if strings.Contains(l, "</script") || strings.Contains(l, "<!--") || strings.Contains(l, "<script") {
			t.Errorf("%s cannot be inlined in a <script> block", name)
		}
	}
	for name, css := range map[string]string{"ChartCSS": html.ChartCSS, "StyleCSS": html.StyleCSS} {
		if strings.Contains(strings.ToLower(css), "</style") {
			t.Errorf("%s cannot be inlined in a <style> block", name)
		}
	}
	if !strings.HasPrefix(html.ChartJS, "/*! https://github.com/leeoniya/uPlot (v1.6.32) */") {
		t.Errorf("ChartJS is not uPlot 1.6.32: %.60q", html.ChartJS)
	}
}

// writePage renders s into a file for the browser.
func writePage(t *testing.T, s *report.Summary) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := html.Write(f, s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// chartsState is what a page's charts look like to a person: how many uPlot
// instances there are and the size of every canvas.
type chartsState struct {
	Instances int      `json:"instances"`
	Canvases  [][2]int `json:"canvases"`
}

const chartsJS = `({
  instances: window.fukaReport ? window.fukaReport.all().length : 0,
  canvases: Array.from(document.querySelectorAll("canvas")).map(c => [c.width, c.height])
})`

func checkCharts(t *testing.T, tab *htmltest.Tab, min int) {
	t.Helper()
	st := htmltest.Eval[chartsState](t, tab, chartsJS)
	if st.Instances < min || len(st.Canvases) != st.Instances {
		t.Errorf("%d uPlot instances and %d canvases; want at least %d, one canvas each", st.Instances, len(st.Canvases), min)
	}
	for i, c := range st.Canvases {
		if c[0] < 200 || c[1] < 100 {
			t.Errorf("canvas %d is %dx%d", i, c[0], c[1])
		}
	}
}

// onlyThePage checks that the page loaded nothing but itself (and data:
// URLs): it works offline.
func onlyThePage(t *testing.T, tab *htmltest.Tab, url string) {
	t.Helper()
	for _, r := range tab.Requests() {
		if r != url && !strings.HasPrefix(r, "data:") {
			t.Errorf("the page requested %s", r)
		}
	}
}

// TestBrowser renders a full run in headless Chromium: no console errors,
// every chart drawn, nothing fetched. It leaves a screenshot in
// testdata/artifacts/report.png.
func TestBrowser(t *testing.T) {
	tab := htmltest.Start(t)
	url := "file://" + writePage(t, htmltest.Sample(30, ""))
	tab.Open(t, url)
	tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")

	// load: rps, latency, clients, errors, dropped; resources: cpu, mem
	// (bytes), mem (%), net, disk, tcp, nginx (count), nginx (per second).
	checkCharts(t, tab, 5+8)
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
	onlyThePage(t, tab, url)
	// The cursor is shared: hovering one chart moves every chart's cursor.
	synced := htmltest.Eval[bool](t, tab, `(() => {
	  const cs = window.fukaReport.charts();
	  cs[0].setCursor({left: cs[0].over.clientWidth / 2, top: 10}, true, true);
	  return cs.slice(1, 5).every(u => u.cursor.idx != null && u.cursor.idx === cs[0].cursor.idx);
	})()`)
	if !synced {
		t.Error("the cursor of the first chart does not move the others")
	}
	// So is the zoom: zooming one chart zooms all of them.
	// (uPlot applies a scale in a microtask, so the check is a second call.)
	htmltest.Eval[any](t, tab, `window.fukaReport.charts()[1].setScale("x", {min: 5, max: 10})`)
	if !htmltest.Eval[bool](t, tab, `window.fukaReport.charts().every(u => u.scales.x.min === 5 && u.scales.x.max === 10)`) {
		t.Error("zooming one chart does not zoom the others")
	}
	// The latency over time first, its distribution over the run beside it.
	figs := htmltest.Eval[[]string](t, tab, `Array.from(document.querySelectorAll("#load-charts > figure > figcaption")).map(c => c.firstChild.textContent)`)
	if len(figs) < 3 || figs[0] != "Latency" || figs[1] != "Latency distribution" {
		t.Errorf("the first charts are %q, want Latency, then Latency distribution", figs)
	}
	// The distribution's points are the run's percentiles, min to max.
	type dist struct {
		Labels []string   `json:"labels"`
		All    []*float64 `json:"all"`
		Want   []float64  `json:"want"`
	}
	d := htmltest.Eval[dist](t, tab, `(() => {
	  const u = window.fukaReport.all().at(-1), l = window.fukaReport.summary.latency;
	  return {labels: u.axes[0].values(u, u.data[0]), all: u.data[1],
	    want: [l.min_ms, l.p50_ms, l.p90_ms, l.p95_ms, l.p99_ms, l.p999_ms, l.max_ms]};
	})()`)
	if want := []string{"min", "p50", "p90", "p95", "p99", "p99.9", "max"}; !slices.Equal(d.Labels, want) {
		t.Errorf("distribution x labels %q, want %q", d.Labels, want)
	}
	if len(d.All) != len(d.Want) {
		t.Errorf("distribution of all requests: %d points, want %d", len(d.All), len(d.Want))
	}
	for i := range min(len(d.All), len(d.Want)) {
		if d.All[i] == nil || *d.All[i] != d.Want[i] {
			t.Errorf("distribution point %s = %v, want %v", d.Labels[i], fmtPtr(d.All[i]), d.Want[i])
		}
	}
	// Resources: the host's series that did not move are one line of text,
	// not charts, until the line's charts are opened; then they are drawn
	// on the same time axis, zoomed as the others are.
	type folded struct {
		Line   string   `json:"line"`
		Drawn  []string `json:"drawn"`
		Groups []string `json:"groups"`
	}
	f := htmltest.Eval[folded](t, tab, `({
	  line: document.querySelector("#res-1 .unchanged").textContent,
	  drawn: Array.from(document.querySelectorAll("#res-1 figure > figcaption")).map(c => c.textContent),
	  groups: Array.from(document.querySelectorAll("#resources .res-group > h3")).map(h => h.firstChild.textContent.trim())
	})`)
	if !strings.Contains(f.Line, "cpu.count 4") || !strings.Contains(f.Line, "swap.used_bytes 0 B") || !strings.Contains(f.Line, "tcp.listen_overflows_per_s") {
		t.Errorf("the host's unchanged line: %q", f.Line)
	}
	for _, l := range f.Drawn {
		if l == "cpucount" || l == "swapbytes" || l == "tcpper second" {
			t.Errorf("the unchanged series %q is drawn before it is asked for", l)
		}
	}
	if want := []string{"Host", "nginx", "Other"}; !slices.Equal(f.Groups, want) {
		t.Errorf("resource groups %q, want %q", f.Groups, want)
	}
	before := len(htmltest.Eval[[]any](t, tab, `window.fukaReport.charts()`))
	htmltest.Eval[any](t, tab, `(() => { const d = document.querySelector("#res-1 details.all-charts"); d.open = true; })()`)
	tab.WaitFor(t, "the unchanged series' charts", `document.querySelectorAll("#res-1-all figure").length === 3`)
	if !htmltest.Eval[bool](t, tab, `(() => { const cs = window.fukaReport.charts(); return cs.length === `+strconv.Itoa(before+3)+` && cs.every(u => u.scales.x.min === 5 && u.scales.x.max === 10); })()`) {
		t.Error("the unchanged series' charts are not on the shared, zoomed time axis")
	}
	htmltest.Eval[any](t, tab, `window.fukaReport.charts()[1].setScale("x", {min: 0, max: 30})`)
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", "report.png"))
}

// TestBrowserHostile loads a report whose every text is a script injection,
// and checks that nothing ran, the texts show as text, and the charts drew.
func TestBrowserHostile(t *testing.T) {
	tab := htmltest.Start(t)
	url := "file://" + writePage(t, htmltest.Sample(10, htmltest.Hostile))
	tab.Open(t, url)
	tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")

	type state struct {
		XSS       any  `json:"xss"`
		Images    int  `json:"images"`
		Handlers  int  `json:"handlers"`
		Scripts   int  `json:"scripts"`
		ShownText bool `json:"shownText"`
		InLegend  bool `json:"inLegend"`
		Name      bool `json:"name"`
	}
	st := htmltest.Eval[state](t, tab, `({
	  xss: window.__xss === undefined ? null : window.__xss,
	  images: document.images.length,
	  handlers: document.querySelectorAll("[onerror],[onload]").length,
	  scripts: document.scripts.length,
	  shownText: document.body.innerText.includes(`+"`"+htmltest.Hostile+"`"+`),
	  inLegend: Array.from(document.querySelectorAll("figure.chart")).some(f =>
	    f.querySelector("figcaption").textContent.includes("<script>alert(1)</script>") &&
	    f.querySelector(".u-legend").textContent.includes("</svg><!--")),
	  name: window.fukaReport.summary.name === "shop" + `+"`"+htmltest.Hostile+"`"+`
	})`)
	if st.XSS != nil {
		t.Errorf("injected script ran: window.__xss = %v", st.XSS)
	}
	if st.Images != 0 || st.Handlers != 0 || st.Scripts != 5 {
		t.Errorf("the page has %d images, %d elements with handlers and %d scripts; want 0, 0, 5", st.Images, st.Handlers, st.Scripts)
	}
	if !st.ShownText {
		t.Error("the hostile text is not shown as text")
	}
	if !st.InLegend {
		t.Error("the hostile series name is not in a chart's title and legend as text")
	}
	if !st.Name {
		t.Error("the data block did not give back the run name")
	}
	checkCharts(t, tab, 5)
	// Long names wrap: the page is no wider than the window.
	if w := htmltest.Eval[[2]int](t, tab, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		t.Errorf("the page is %d px wide in a %d px window", w[0], w[1])
	}
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
	onlyThePage(t, tab, url)
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", "report-hostile.png"))
}

// TestBrowserFormat: the charts' number formats (fukaCharts.format, which
// the dashboard's totals and every chart's axes and legends use) read as
// documented, and a latency reads as the Go kit writes it in the tables
// (report.FormatMS), so a value in a legend matches the same value in the
// table above it.
func TestBrowserFormat(t *testing.T) {
	tab := htmltest.Start(t)
	tab.Open(t, "file://"+writePage(t, quickRun()))
	tab.WaitFor(t, "the charts", "window.fukaCharts && window.fukaReport")

	type call struct {
		Fn   string `json:"fn"`
		Arg  any    `json:"arg"` // nil: JavaScript's null
		want string
	}
	calls := []call{
		{"compact", 950, "950"},
		{"compact", 12345, "12.3k"},
		{"compact", 3.4e6, "3.4M"},
		{"compact", 2.5e9, "2.5G"},
		{"compact", 1.234, "1.23"},
		{"compact", nil, "–"},
		{"bytes", 512, "512 B"},
		{"bytes", 976563, "954 KiB"},
		{"bytes", 1.15e9, "1.07 GiB"},
		{"secs", 45, "45s"},
		{"secs", 1.5, "1.5s"},
		{"secs", 125, "2m05s"},
		{"pct", 0.5, "0.50%"},
		{"pct", 12.5, "12.5%"},
		{"pct", nil, "–"},
		{"rate", 480, "480/s"},
		{"rate", 1234, "1,234/s"},
		{"rate", 12345, "12.3k/s"},
		{"ms", nil, "–"},
	}
	// Where the two kits meet: a latency from µs to seconds.
	for _, v := range []float64{0.512, 1.9, 12.345, 213, 1234} {
		calls = append(calls, call{"ms", v, report.FormatMS(v)})
	}
	args, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	got := htmltest.Eval[[]string](t, tab, `(() => {
	  const calls = `+string(args)+`;
	  return calls.map(c => fukaCharts.format[c.fn](c.arg));
	})()`)
	if len(got) != len(calls) {
		t.Fatalf("%d results for %d calls", len(got), len(calls))
	}
	// A log axis's minor ticks come to the labels as null: no label, not
	// "–" (the format of a missing value) beside every minor tick.
	labels := htmltest.Eval[[][]string](t, tab, `window.fukaReport.charts().flatMap(u => u.axes.map(a => a.values(u, [null, 10], 1, 10, 1)))`)
	if len(labels) == 0 {
		t.Error("no chart axes")
	}
	for _, l := range labels {
		if len(l) != 2 || l[0] != "" || l[1] == "" || l[1] == "–" {
			t.Errorf("axis labels of ticks [null, 10] = %q, want a blank and a value", l)
		}
	}
	for i, c := range calls {
		t.Run(fmt.Sprintf("%s(%v)", c.Fn, c.Arg), func(t *testing.T) {
			if got[i] != c.want {
				t.Errorf("fukaCharts.format.%s(%v) = %q, want %q", c.Fn, c.Arg, got[i], c.want)
			}
		})
	}
}
