package capacity_test

import (
	"bytes"
	"context"
	"encoding/json"
	stdhtml "html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/capacity"
	"github.com/fuka-load/fuka/report/html"
	"github.com/fuka-load/fuka/report/html/htmltest"
	"github.com/fuka-load/fuka/threshold"
)

// queueing is a fake target that serves at most n requests a second and
// queues the rest: p99 climbs slowly up to n, then jumps and grows with the
// queue; its throughput stays at n and a few requests time out. Its CPU
// follows the load; fuka's own CPU is at genCPU(rate).
func queueing(n float64, genCPU func(rate float64) float64) capacity.Measure {
	return func(_ context.Context, rate float64, hold time.Duration) (capacity.Result, error) {
		x := rate / n
		r := capacity.Result{
			P50MS: 1 + rate/400, P99MS: 3 + rate/40 + 30*x*x*x, RPS: rate, Requests: int64(rate * hold.Seconds() * 0.8),
			TargetCPUPct: new(min(100, 100*x)), TargetCPUSeries: "process.api.cpu_pct",
		}
		if rate > n {
			r.P50MS, r.P99MS, r.RPS, r.ErrorRate = 100*x, 200+400*(x-1), n, 0.005*x
			if x >= 2 {
				r.Dropped, r.DroppedRatio = int64(rate/100), 0.005
			}
		}
		if genCPU != nil {
			r.GenCPUPct = new(genCPU(rate))
		}
		return r, nil
	}
}

// search runs a capacity search against measure; it fails the test on an
// error.
func search(t *testing.T, slo string, cfg capacity.Config, measure capacity.Measure) *capacity.Report {
	t.Helper()
	var err error
	if cfg.SLO, err = capacity.ParseSLO(slo); err != nil {
		t.Fatal(err)
	}
	rep, err := capacity.Search(context.Background(), cfg, measure)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// latencyLimited is a search that stops at the precision, on latency: the
// answer is near 400/s.
func latencyLimited(t *testing.T) *capacity.Report {
	return search(t, "p99 < 50ms, error_rate < 1%", capacity.Config{Min: 25, Precision: 0.05, Hold: 10 * time.Second},
		queueing(400, func(rate float64) float64 { return rate / 40 }))
}

// generatorLimited is a search whose generator runs out of CPU at 800/s
// while the target would take more: the answer is a lower bound.
func generatorLimited(t *testing.T) *capacity.Report {
	return search(t, "p99 < 50ms", capacity.Config{Min: 100, Precision: 0.1},
		queueing(5000, func(rate float64) float64 {
			if rate >= 800 {
				return 95
			}
			return rate / 10
		}))
}

// refused is a search whose first step is a hard failure.
func refused(t *testing.T) *capacity.Report {
	return search(t, "p99 < 50ms", capacity.Config{Min: 20},
		func(context.Context, float64, time.Duration) (capacity.Result, error) {
			return capacity.Result{Requests: 100, ErrorRate: 1, Refused: true}, nil
		})
}

func render(t *testing.T, r *capacity.Report, info capacity.RunInfo) string {
	t.Helper()
	var b bytes.Buffer
	if err := capacity.WriteHTMLRun(&b, r, info); err != nil {
		t.Fatalf("WriteHTMLRun: %v", err)
	}
	return b.String()
}

var (
	metaCSP  = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)
	inlineJS = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	inlineSt = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	dataJSON = regexp.MustCompile(`(?s)<script type="application/json" id="fuka-data">(.*?)</script>`)
	anyTag   = regexp.MustCompile(`(?i)<(script|style|img|svg|iframe|object|embed|link|meta|base)\b`)
	rowTag   = regexp.MustCompile(`<tr[ >]`)
	rawAttr  = regexp.MustCompile(`<[^>]*\s(onerror|onload)=`)
)

func TestWriteHTMLContent(t *testing.T) {
	tests := []struct {
		name    string
		rep     func(t *testing.T) *capacity.Report
		info    capacity.RunInfo
		want    []string
		notWant []string
		rows    int // table rows: the steps, and the header
	}{
		{
			name: "latency limit",
			rep:  latencyLimited,
			info: capacity.RunInfo{Name: "shop", Target: "http://127.0.0.1:8080/", Version: "v0.3.0",
				Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Duration: 95 * time.Second},
			want: []string{
				"<title>fuka capacity — shop</title>", `<span class="badge pass">capacity found</span>`,
				`<b id="answer-rate">400/s</b>`, "the highest rate that met the SLO: p50 2.00ms, p99 43.0ms",
				"The capacity lies in [400, 413)/s.",
				"<code>p99 &lt; 50ms</code>", "<code>error_rate &lt; 1%</code>",
				`<span class="bad">latency</span> at 413/s`, "✗ p99 &lt; 50ms (actual 213.0ms)",
				"<dt>knee</dt><dd>200/s: p99 11.8ms, over twice the 3.63ms at 25/s</dd>",
				"precision reached: 413/s failed within 5% of 400/s",
				"http://127.0.0.1:8080/", "2025-01-02 03:04:05 UTC", "1m35s", "v0.3.0", "10s each",
				`<section id="charts">`, `id="capacity-charts"`, "11 steps, by requested rate",
				"<th>fuka cpu</th>", `<th title="process.api.cpu_pct">target cpu</th>`,
				`<tr class="answer"><td>5</td><td class="phase">exponential</td><td>400</td><td>400.0</td><td>2.00ms</td><td>43.0ms</td><td>0.00%</td><td>0.00%</td><td>10%</td><td>100%</td>`,
				`<td class="bad">1.00%</td><td class="bad">0.50%</td>`, `<span class="badge fail">fail: errors</span>`,
				`<span class="badge fail">fail: latency</span>`, `<span class="badge pass">answer</span>`,
			},
			notWant: []string{"lower bound", `id="advice"`, "interrupted", "No step was measured"},
			rows:    1 + 11, // 25, 50, 100, 200, 400, 800; 600, 500, 450, 425, 413
		},
		{
			name: "generator limit: a lower bound",
			rep:  generatorLimited,
			want: []string{
				"<title>fuka capacity</title>", `<span class="badge warn">lower bound</span>`,
				`class="answer lower"`, `<b id="answer-rate">750/s</b>`, "a lower bound: the highest rate that met the SLO",
				`<span class="bad">generator CPU</span> at 800/s`, "✗ generator CPU 95%",
				`<p class="advice" id="advice"><b>Advice:</b> fuka itself used 90% CPU or more at 800/s`, "fuka worker",
				"<td>95%</td>",
			},
			notWant: []string{"capacity found", "<dt>target</dt>", "<dt>started</dt>"},
		},
		{
			name: "even the first step failed",
			rep:  refused,
			info: capacity.RunInfo{Target: "http://127.0.0.1:1/", Interrupted: false},
			want: []string{
				`<span class="badge fail">no rate met the SLO</span>`, `class="answer none"`, `<b id="answer-rate">none</b>`,
				"even 20/s, the lowest rate tried, failed the SLO.", "✗ hard failure: every connection was refused",
				`<span class="badge fail">hard</span>`, `<span class="bad">errors</span> at 20/s`, "hard failure",
				`<td class="bad">100.00%</td>`,
			},
			notWant: []string{"The capacity lies in", "<th>fuka cpu</th>", "<th title"},
			rows:    1 + 1,
		},
		{
			name: "interrupted before any step",
			rep: func(*testing.T) *capacity.Report {
				return &capacity.Report{SLO: []string{"p99 < 1s"}, Min: 10, Precision: 0.05, HoldS: 30, Stopped: capacity.StopInterrupted}
			},
			want:    []string{`<span class="badge warn">interrupted</span>`, "no step was measured.", "No step was measured.", "none: no step was measured"},
			notWant: []string{`id="capacity-charts"`, "<dt>knee</dt>", "<table", "every step passed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.rep(t), tt.info)
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
			if n := len(rowTag.FindAllString(out, -1)); tt.rows > 0 && n != tt.rows {
				t.Errorf("%d table rows, want %d", n, tt.rows)
			}
			if t.Failed() {
				os.WriteFile(filepath.Join("testdata", "artifacts", strings.ReplaceAll(tt.name, " ", "-")+".html"), []byte(out), 0o644)
			}
		})
	}
}

// TestWriteHTMLChartData: the charts get the deciding steps sorted by rate
// (not a superseded measurement), and the SLO's upper bounds on latency and
// errors as lines.
func TestWriteHTMLChartData(t *testing.T) {
	step := func(rate, p99 float64, pass, superseded bool) capacity.StepResult {
		return capacity.StepResult{Rate: rate, Pass: pass, Superseded: superseded,
			Result: capacity.Result{P50MS: p99 / 4, P99MS: p99, ErrorRate: p99 / 10000, DroppedRatio: 0.001, RPS: rate}}
	}
	rep := &capacity.Report{
		SLO:    []string{"p95 < 40ms", `"checkout".p99 <= 50ms`, "p50 > 0ms", "error_rate < 2%", "rps > 1", "not a term"},
		Answer: 150, Found: true, FailedAt: 175, Knee: &capacity.Knee{Rate: 150},
		Steps: []capacity.StepResult{
			step(100, 5, true, false), step(200, 300, false, false), step(150, 90, false, true),
			step(150, 30, true, false), step(175, 250, false, false),
		},
	}
	out := render(t, rep, capacity.RunInfo{})
	type line struct {
		Label string  `json:"label"`
		Value float64 `json:"value"`
	}
	var data struct {
		Chart struct {
			Rate       []float64 `json:"rate"`
			P50MS      []float64 `json:"p50_ms"`
			P99MS      []float64 `json:"p99_ms"`
			Pass       []bool    `json:"pass"`
			ErrorPct   []float64 `json:"error_pct"`
			DroppedPct []float64 `json:"dropped_pct"`
			RPS        []float64 `json:"achieved_rps"`
			SLOLatency []line    `json:"slo_latency"`
			SLOErrors  []line    `json:"slo_errors"`
			Answer     float64   `json:"answer"`
			Knee       float64   `json:"knee"`
		} `json:"chart"`
	}
	m := dataJSON.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no data block")
	}
	if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
		t.Fatal(err)
	}
	c := data.Chart
	checks := []struct {
		what      string
		got, want any
	}{
		{"rates", c.Rate, []float64{100, 150, 175, 200}},
		{"p99", c.P99MS, []float64{5, 30, 250, 300}},
		{"p50", c.P50MS, []float64{1.25, 7.5, 62.5, 75}},
		{"pass", c.Pass, []bool{true, true, false, false}},
		{"errors %", c.ErrorPct, []float64{0.05, 0.3, 2.5, 3}},
		{"dropped %", c.DroppedPct, []float64{0.1, 0.1, 0.1, 0.1}},
		{"achieved", c.RPS, []float64{100, 150, 175, 200}},
		{"latency lines", c.SLOLatency, []line{{"SLO p95 < 40ms", 40}, {`SLO "checkout".p99 <= 50ms`, 50}}},
		{"error lines", c.SLOErrors, []line{{"SLO error_rate < 2%", 2}}},
		{"answer and knee", [2]float64{c.Answer, c.Knee}, [2]float64{150, 150}},
	}
	for _, ck := range checks {
		if got, want := jsonOf(t, ck.got), jsonOf(t, ck.want); got != want {
			t.Errorf("%s %s, want %s", ck.what, got, want)
		}
	}
	if !strings.Contains(out, "4 steps, by requested rate") || !strings.Contains(out, `<tr class="superseded"><td>3</td>`) ||
		!strings.Contains(out, `<span class="badge warn">fail, measured again</span>`) {
		t.Error("the superseded step is not marked in the table")
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hostile is a search whose every text is a script injection: the plan's
// name, the target URL, an SLO term's scope (so the failing terms and the
// chart's SLO line too), and the advice.
func hostile(t *testing.T) (*capacity.Report, capacity.RunInfo) {
	scope := strconv.Quote("api" + htmltest.Hostile)
	measure := func(ctx context.Context, rate float64, hold time.Duration) (capacity.Result, error) {
		r, err := queueing(400, nil)(ctx, rate, hold)
		r.Values = threshold.ValuesFunc(func(_, metric string) (float64, bool) {
			switch metric {
			case threshold.P99:
				return r.P99MS, true
			case threshold.ErrorRate:
				return r.ErrorRate, true
			}
			return 0, false
		})
		return r, err
	}
	rep := search(t, scope+".p99 < 50ms, error_rate < 1%", capacity.Config{Min: 100, Precision: 0.1}, measure)
	rep.Advice = "advice" + htmltest.Hostile
	return rep, capacity.RunInfo{Name: "shop" + htmltest.Hostile, Target: `http://127.0.0.1/"><img src=x onerror=alert(1)>` + htmltest.Hostile}
}

// TestWriteHTMLCSP: the policy lists exactly the hashes of the page's
// inline blocks, and nothing that would let other script or style in.
func TestWriteHTMLCSP(t *testing.T) {
	rep, info := hostile(t)
	out := render(t, rep, info)
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
	if want := html.CSP([]string{scripts[0][1], scripts[1][1], scripts[2][1]}, []string{styles[0][1]}); csp != want {
		t.Errorf("CSP\n %s\nwant (hashes of the blocks on the page)\n %s", csp, want)
	}
}

// TestWriteHTMLSharedCharts: the capacity page draws with report/html's
// chart and format script, the very bytes the run report carries (its hash
// is in both pages' policies), and capacity has no chart code of its own to
// drift from it: no script on the page but report/html's, no .js file, no
// embedded script, no uPlot call in its Go sources.
func TestWriteHTMLSharedCharts(t *testing.T) {
	rep, info := hostile(t)
	capPage := render(t, rep, info)
	var run bytes.Buffer
	if err := html.Write(&run, htmltest.Sample(10, "")); err != nil {
		t.Fatal(err)
	}
	shared := html.SourceHash(html.ChartsJS)
	for name, page := range map[string]string{"capacity": capPage, "run": run.String()} {
		m := metaCSP.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s page: no CSP meta tag", name)
		}
		if !strings.Contains(stdhtml.UnescapeString(m[1]), shared) {
			t.Errorf("%s page's policy lacks the shared charts' hash %s", name, shared)
		}
	}

	ours := map[string]string{html.ChartJS: "uPlot", html.ChartsJS: "charts", html.CapacityJS: "capacity start"}
	var got []string
	for _, s := range inlineJS.FindAllStringSubmatch(capPage, -1) {
		name, ok := ours[s[1]]
		if !ok {
			t.Errorf("the capacity page has a script of its own: %.80q", s[1])
			continue
		}
		got = append(got, name)
	}
	if want := []string{"uPlot", "charts", "capacity start"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the capacity page's scripts are %q, want %q", got, want)
	}

	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	embedJS := regexp.MustCompile(`(?m)^//go:embed .*\.(js|mjs)\b`)
	for _, f := range files {
		switch filepath.Ext(f.Name()) {
		case ".js", ".mjs":
			t.Errorf("capacity/%s: chart code belongs to report/html/assets/charts.js", f.Name())
		case ".go", ".tmpl":
			if strings.HasSuffix(f.Name(), "_test.go") {
				continue // the browser tests read the charts through uPlot
			}
			src, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if embedJS.Match(src) || strings.Contains(string(src), "new uPlot") {
				t.Errorf("capacity/%s carries script of its own", f.Name())
			}
		}
	}
}

// TestWriteHTMLHostile: every text is escaped, and the data block gives
// back the report as it was.
func TestWriteHTMLHostile(t *testing.T) {
	rep, info := hostile(t)
	out := render(t, rep, info)

	// The page's own tags only: 4 scripts (data, uPlot, the charts, their
	// start), 1
	// style, 4 meta, 1 link; the payloads' tags are all escaped.
	counts := map[string]int{}
	for _, m := range anyTag.FindAllStringSubmatch(out, -1) {
		counts[strings.ToLower(m[1])]++
	}
	want := map[string]int{"script": 4, "style": 1, "meta": 4, "link": 1}
	for tag, n := range counts {
		if want[tag] != n {
			t.Errorf("%d <%s> tags on the page, want %d", n, tag, want[tag])
		}
	}
	for _, esc := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", // text
		`<title>fuka capacity — shop&lt;script&gt;`,
	} {
		if !strings.Contains(out, esc) {
			t.Errorf("page lacks the escaped %q", esc)
		}
	}
	if rawAttr.MatchString(out) {
		t.Errorf("a hostile attribute in a tag: %q", rawAttr.FindString(out))
	}

	m := dataJSON.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no data block")
	}
	if strings.ContainsAny(m[1], "<>&") {
		t.Errorf("data block has an unescaped <, > or &")
	}
	var back struct {
		Run    capacity.RunInfo `json:"run"`
		Report capacity.Report  `json:"report"`
	}
	if err := json.Unmarshal([]byte(m[1]), &back); err != nil {
		t.Fatalf("data block: %v", err)
	}
	if jsonOf(t, back.Report) != jsonOf(t, rep) {
		t.Error("the data block does not give back the report")
	}
	if back.Run.Target != info.Target || back.Run.Name != info.Name {
		t.Errorf("run from the data block = %+v", back.Run)
	}
}

func TestWriteHTMLNil(t *testing.T) {
	var b bytes.Buffer
	if err := capacity.WriteHTML(&b, nil); err == nil || b.Len() != 0 {
		t.Errorf("WriteHTML(nil) = %v with %d bytes; want an error and nothing written", err, b.Len())
	}
}

// writePage renders a page into a file for the browser.
func writePage(t *testing.T, r *capacity.Report, info capacity.RunInfo) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capacity.html")
	if err := os.WriteFile(path, []byte(render(t, r, info)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// chartsState is what the page's charts look like to a person: the uPlot
// instances, their series, and how many pixels of every canvas are painted.
type chartsState struct {
	Instances int        `json:"instances"`
	Series    [][]string `json:"series"`
	LogY      bool       `json:"logY"`
	Canvases  [][3]int   `json:"canvases"` // width, height, painted pixels
}

const chartsJS = `({
  instances: window.fukaCapacity ? window.fukaCapacity.charts().length : 0,
  series: window.fukaCapacity ? window.fukaCapacity.charts().map(u => u.series.map(s => s.label)) : [],
  logY: !!window.fukaCapacity && window.fukaCapacity.charts()[0].scales.y.distr === 3,
  canvases: Array.from(document.querySelectorAll("canvas")).map(c => {
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
    return [c.width, c.height, n];
  })
})`

func checkCharts(t *testing.T, tab *htmltest.Tab) chartsState {
	t.Helper()
	st := htmltest.Eval[chartsState](t, tab, chartsJS)
	if st.Instances != 3 || len(st.Canvases) != 3 {
		t.Fatalf("%d uPlot instances and %d canvases; want 3 each", st.Instances, len(st.Canvases))
	}
	for i, c := range st.Canvases {
		if c[0] < 200 || c[1] < 100 || c[2] < 500 {
			t.Errorf("canvas %d is %dx%d with %d painted pixels", i, c[0], c[1], c[2])
		}
	}
	if !st.LogY {
		t.Error("the latency chart's y scale is not logarithmic")
	}
	return st
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

// TestWriteHTMLBrowser renders a search in headless Chromium: no console
// errors or CSP violations, the three charts drawn with pass and fail marked
// and the SLO line, nothing fetched. It leaves a screenshot in
// testdata/artifacts/capacity.png.
func TestWriteHTMLBrowser(t *testing.T) {
	tab := htmltest.Start(t)
	info := capacity.RunInfo{Name: "shop", Target: "http://127.0.0.1:8080/", Version: "v0.3.0",
		Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Duration: 95 * time.Second}
	url := "file://" + writePage(t, latencyLimited(t), info)
	tab.Open(t, url)
	tab.WaitFor(t, "the charts", "window.fukaCapacity && window.fukaCapacity.charts().length > 0")

	st := checkCharts(t, tab)
	wantSeries := [][]string{
		{"rate", "p50", "p99", "p99, passed", "p99, failed", "SLO p99 < 50ms"},
		{"rate", "errors", "dropped", "errors, failed step", "SLO error_rate < 1%"},
		{"rate", "achieved", "requested"},
	}
	if jsonOf(t, st.Series) != jsonOf(t, wantSeries) {
		t.Errorf("series %q\nwant %q", st.Series, wantSeries)
	}
	// The pass and fail points: 5 steps passed and 6 failed.
	marks := htmltest.Eval[[2]int](t, tab, `(() => {
	  const d = window.fukaCapacity.charts()[0].data;
	  return [d[3].filter(v => v != null).length, d[4].filter(v => v != null).length];
	})()`)
	if marks != [2]int{5, 6} {
		t.Errorf("%d passed and %d failed points, want 5 and 6", marks[0], marks[1])
	}
	// The cursor is shared: hovering one chart reads every chart at that rate.
	synced := htmltest.Eval[bool](t, tab, `(() => {
	  const cs = window.fukaCapacity.charts();
	  cs[0].setCursor({left: cs[0].valToPos(400, "x"), top: 10}, true, true);
	  return cs.every(u => u.cursor.idx === 4) && cs[0].legend.values[2]._ === "43ms";
	})()`)
	if !synced {
		t.Error("hovering the latency chart at 400/s does not read 43ms on every chart's step 5")
	}
	// The log latency axis's minor ticks (null) have no label, not "–".
	if l := htmltest.Eval[[]string](t, tab, `(u => u.axes[1].values(u, [null, 10], 1, 10, 1))(window.fukaCapacity.charts()[0])`); len(l) != 2 || l[0] != "" || l[1] != "10ms" {
		t.Errorf("latency axis labels of ticks [null, 10] = %q, want [\"\" \"10ms\"]", l)
	}
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
	onlyThePage(t, tab, url)
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", "capacity.png"))
}

// TestWriteHTMLBrowserHostile loads a page whose every text is a script
// injection, and checks that nothing ran, the texts show as text, and the
// charts drew.
func TestWriteHTMLBrowserHostile(t *testing.T) {
	tab := htmltest.Start(t)
	rep, info := hostile(t)
	url := "file://" + writePage(t, rep, info)
	tab.Open(t, url)
	tab.WaitFor(t, "the charts", "window.fukaCapacity && window.fukaCapacity.charts().length > 0")

	type state struct {
		XSS       any  `json:"xss"`
		Images    int  `json:"images"`
		Handlers  int  `json:"handlers"`
		Scripts   int  `json:"scripts"`
		ShownText bool `json:"shownText"`
		Target    bool `json:"target"`
		InLegend  bool `json:"inLegend"`
	}
	st := htmltest.Eval[state](t, tab, `({
	  xss: window.__xss === undefined ? null : window.__xss,
	  images: document.images.length,
	  handlers: document.querySelectorAll("[onerror],[onload]").length,
	  scripts: document.scripts.length,
	  shownText: document.getElementById("advice").textContent.includes(`+"`"+htmltest.Hostile+"`"+`),
	  target: document.getElementById("search").textContent.includes(`+"`"+info.Target+"`"+`),
	  inLegend: document.querySelector("#capacity-charts .u-legend").textContent.includes('SLO "api<script>alert(1)</script>')
	})`)
	if st.XSS != nil {
		t.Errorf("injected script ran: window.__xss = %v", st.XSS)
	}
	if st.Images != 0 || st.Handlers != 0 || st.Scripts != 4 {
		t.Errorf("the page has %d images, %d elements with handlers and %d scripts; want 0, 0, 4", st.Images, st.Handlers, st.Scripts)
	}
	if !st.ShownText || !st.Target {
		t.Errorf("the hostile advice (%v) or target (%v) is not shown as text", st.ShownText, st.Target)
	}
	if !st.InLegend {
		t.Error("the hostile SLO term is not in the latency chart's legend as text")
	}
	checkCharts(t, tab)
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
	onlyThePage(t, tab, url)
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", "capacity-hostile.png"))
}
