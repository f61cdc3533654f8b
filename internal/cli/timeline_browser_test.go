package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/report/html/htmltest"
)

// TestProtocolsOnOneTimeline runs examples/websocket.yaml and
// examples/grpc.yaml against the demo target with --monitor local and
// opens each HTML report in headless Chromium (skipped without it, unless
// FUKA_INTEGRATION=1): the requests table has a row per message round
// trip, handshake and call with the summary's counts, the latency chart
// draws them, and the machine's charts are on the latency chart's time
// axis: the same seconds, a value at each, one zoom. Screenshots of each
// page go to testdata/artifacts.
func TestProtocolsOnOneTimeline(t *testing.T) {
	if testing.Short() {
		t.Skip("two 3-second loads and a browser")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		example string
		names   []string // the rows the report must have
	}{
		{"websocket.yaml", []string{"join", "say", "join every"}},
		{"grpc.yaml", []string{"add", "watch", "flaky"}},
	} {
		t.Run(tc.example, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "examples", tc.example))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			plan := filepath.Join(dir, tc.example)
			if err := os.WriteFile(plan, []byte(strings.ReplaceAll(string(b), "127.0.0.1:8080", srv.Addr())), 0o644); err != nil {
				t.Fatal(err)
			}
			results := filepath.Join(dir, "results")
			r := fuka(t, "run", plan, "-c", "5", "-d", "3s", "--monitor", "local", "--results", results, "-q", "--no-history")
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %s", r.code, r.err)
			}
			var sum struct {
				ByName []struct {
					Name     string
					Requests int64
				} `json:"requests_by_name"`
			}
			if b, err := os.ReadFile(filepath.Join(results, "summary.json")); err != nil || json.Unmarshal(b, &sum) != nil {
				t.Fatalf("summary.json: %v", err)
			}
			want := map[string]string{}
			for _, n := range sum.ByName {
				want[n.Name] = fmt.Sprintf("%d", n.Requests)
			}
			for _, n := range tc.names {
				if want[n] == "" || want[n] == "0" {
					t.Errorf("the summary has no %q requests: %v", n, want)
				}
			}

			tab := htmltest.Start(t)
			url := "file://" + filepath.Join(results, "report.html")
			tab.Open(t, url)
			tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")
			if p := tab.Problems(t); len(p) > 0 {
				t.Errorf("problems on the page: %q", p)
			}

			// A row per name, with the summary's count (thousands
			// separated, as the page writes them).
			rows := htmltest.Eval[[][]string](t, tab, `Array.from(document.querySelectorAll("#requests table")[0].tBodies[0].rows).map(r => Array.from(r.cells).map(c => c.textContent.trim()))`)
			got := map[string]string{}
			for _, row := range rows {
				if len(row) > 1 {
					got[row[0]] = strings.ReplaceAll(row[1], ",", "")
				}
			}
			for name, n := range want {
				if got[name] != n {
					t.Errorf("row %q: count %q, want %s (rows %q)", name, got[name], n, rows)
				}
			}

			// The time charts: the latency chart first, the load's, then
			// the machine's (figures under #resources).
			type chart struct {
				Caption  string       `json:"caption"`
				Resource bool         `json:"resource"`
				X        []float64    `json:"x"`
				Series   []string     `json:"series"`
				Values   [][]*float64 `json:"values"`
			}
			charts := htmltest.Eval[[]chart](t, tab, `window.fukaReport.charts().map(u => {
			  const fig = u.root.closest("figure");
			  return {caption: fig.querySelector("figcaption").firstChild.textContent,
			    resource: !!fig.closest("#resources"), x: Array.from(u.data[0]),
			    series: u.series.slice(1).map(s => s.label), values: u.data.slice(1).map(d => Array.from(d))};
			})`)
			if len(charts) == 0 || charts[0].Caption != "Latency" || charts[0].Resource {
				t.Fatalf("the first time chart is not the load's latency: %+v", charts)
			}
			for _, want := range []string{"Throughput", "Errors"} {
				if !slices.ContainsFunc(charts, func(c chart) bool { return c.Caption == want && !c.Resource }) {
					t.Errorf("no %s chart on the time axis", want)
				}
			}
			lat := charts[0]
			if len(lat.X) < 2 {
				t.Fatalf("the latency chart has %d points", len(lat.X))
			}
			drawn := 0
			for _, v := range lat.Values[0] {
				if v != nil {
					drawn++
				}
			}
			if drawn < 2 {
				t.Errorf("the latency chart draws %d points of %q", drawn, lat.Series[0])
			}
			var cpu *chart
			for i, c := range charts {
				if c.Resource && c.Caption == "cpu" {
					cpu = &charts[i]
				}
			}
			if cpu == nil {
				t.Fatalf("no cpu chart among the resources: %+v", charts)
			}
			// One axis: seconds from the load's start, the monitor's
			// samples among the load's intervals (a load point ends its
			// second, the monitor samples at 0 too), and a cpu value
			// within half a second of every latency value.
			last := lat.X[len(lat.X)-1]
			for _, x := range cpu.X {
				if x < 0 || x > last+1 {
					t.Errorf("the cpu chart has a sample at %gs, outside the load's 0–%gs", x, last)
				}
			}
			for i, v := range lat.Values[0] {
				near := slices.IndexFunc(cpu.X, func(x float64) bool { return x >= lat.X[i]-0.5 && x <= lat.X[i]+0.5 })
				if v != nil && (near < 0 || slices.IndexFunc(cpu.Values, func(s []*float64) bool { return s[near] != nil }) < 0) {
					t.Errorf("at %gs the latency chart has a value and the cpu chart none (cpu at %v)", lat.X[i], cpu.X)
				}
			}
			scales := htmltest.Eval[[][2]float64](t, tab, `window.fukaReport.charts().map(u => [u.scales.x.min, u.scales.x.max])`)
			for i, sc := range scales {
				if sc != scales[0] {
					t.Errorf("chart %q shows %v seconds, the latency chart %v", charts[i].Caption, sc, scales[0])
				}
			}
			// One zoom: zooming the latency chart zooms the machine's.
			htmltest.Eval[any](t, tab, `window.fukaReport.charts()[0].setScale("x", {min: 1, max: 2})`)
			if !htmltest.Eval[bool](t, tab, `window.fukaReport.charts().every(u => u.scales.x.min === 1 && u.scales.x.max === 2)`) {
				t.Error("zooming the latency chart does not zoom the others")
			}
			htmltest.Eval[any](t, tab, `window.fukaReport.charts()[0].setScale("x", {min: 0, max: 3})`)
			shot(t, tab, strings.TrimSuffix(tc.example, ".yaml"))
		})
	}
}

// shot saves the whole page, and its requests table with the first charts
// at full size, under testdata/artifacts.
func shot(t *testing.T, tab *htmltest.Tab, name string) {
	t.Helper()
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", name+".png"))
	for _, sel := range []string{"#verdict", "#summary", "#requests", "#charts", "#resources"} {
		png, err := chromedp.Run(tab.Ctx, chromedp.Screenshot(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("screenshot %s: %v", sel, err)
		}
		path := filepath.Join("testdata", "artifacts", name+"-"+strings.TrimPrefix(sel, "#")+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
