package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestJudge(t *testing.T) {
	tests := []struct {
		name    string
		m       Metric
		a, b    float64
		noise   float64
		want    Verdict
		wantPct float64
	}{
		{"latency up beyond noise", P95, 10, 12, 0.05, Regressed, 20},
		{"latency down beyond noise", P99, 10, 8, 0.05, Improved, -20},
		{"latency up within noise", P95, 10, 10.4, 0.05, Same, 4},
		{"exactly the noise is not beyond it", P95, 100, 105, 0.05, Same, 5},
		{"absolute floor: +80% but 0.04ms", P95, 0.05, 0.09, 0.05, Same, 80},
		{"just over the floor", P95, 0.05, 0.2, 0.05, Regressed, 300},
		{"rps down is a regression", RPS, 1000, 900, 0.05, Regressed, -10},
		{"rps up is an improvement", RPS, 1000, 1100, 0.05, Improved, 10},
		{"rps within noise", RPS, 1000, 960, 0.05, Same, -4},
		{"errors from none", ErrorPct, 0, 2, 0.05, Regressed, math.Inf(1)},
		{"errors below the 0.1pp floor", ErrorPct, 0, 0.05, 0.05, Same, math.Inf(1)},
		{"errors gone", ErrorPct, 1, 0, 0.05, Improved, -100},
		{"zero noise still has the floor", P95, 10, 10.05, 0, Same, 0.5},
		{"both zero", ErrorPct, 0, 0, 0.05, Same, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pct, v := judge(tt.m, tt.a, tt.b, tt.noise)
			if v != tt.want || !(pct == tt.wantPct || math.Abs(pct-tt.wantPct) < 1e-9) {
				t.Errorf("judge(%v, %v → %v) = %v, %v; want %v, %v", tt.m, tt.a, tt.b, pct, v, tt.want, tt.wantPct)
			}
		})
	}
}

// pair is a baseline and a new run that between them show every case:
// a regression, an improvement, a change within the noise, one below the
// absolute floor, a name only in A and a name only in B.
func pair() (a, b *report.Summary, ra, rb Run) {
	name := func(n string, requests, failed int64, rps, p95, p99 float64) report.NameSummary {
		return report.NameSummary{Name: n, Requests: requests, Failed: failed, RPS: rps,
			Latency: report.Latency{P95MS: p95, P99MS: p99}, Status: map[string]int64{}}
	}
	a = &report.Summary{
		Name: "shop", Target: "http://127.0.0.1:8080", Model: report.ModelClosed,
		Started: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), DurationS: 60,
		Requests: 60000, Failed: 60, ErrorRate: 0.001, RPS: 1000,
		Latency: report.Latency{P95MS: 20, P99MS: 40},
		ByName: []report.NameSummary{
			name("list products", 40000, 0, 666.667, 10, 20), // regresses
			name("checkout", 10000, 60, 166.667, 50, 120),    // improves
			name("health", 5000, 0, 83.333, 0.05, 0.08),      // +80% but under 0.1 ms: same
			name("login", 5000, 0, 83.333, 30, 45),           // gone in B
			name("<script>alert(1)</script>", 0, 0, 0, 0, 0), // no responses
		},
	}
	b = &report.Summary{
		Name: "shop", Target: "http://127.0.0.1:8080", Model: report.ModelClosed,
		Started: time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC), DurationS: 60,
		Requests: 61200, Failed: 61, ErrorRate: 0.000997, RPS: 1020,
		Latency: report.Latency{P95MS: 20.5, P99MS: 41},
		ByName: []report.NameSummary{
			name("search", 6200, 0, 103.333, 15, 30), // new in B
			name("list products", 40000, 0, 666.667, 14, 30),
			name("checkout", 10000, 0, 166.667, 40, 90),
			name("health", 5000, 0, 83.333, 0.09, 0.1),
			name("<script>alert(1)</script>", 10, 0, 0.167, 5, 6),
		},
	}
	ra, rb = RunOf(a, ""), RunOf(b, "")
	ra.ID, rb.ID = 12, 13
	return a, b, ra, rb
}

func TestCompare(t *testing.T) {
	a, b, ra, rb := pair()
	c := Compare(a, b, ra, rb, DefaultNoise)
	type want struct {
		name   string
		verdic [NumMetrics]Verdict
		onlyIn string
	}
	wants := []want{
		{name: "", verdic: [NumMetrics]Verdict{Same, Same, Same, Same}},
		{name: "list products", verdic: [NumMetrics]Verdict{Regressed, Regressed, Same, Same}},
		{name: "checkout", verdic: [NumMetrics]Verdict{Improved, Improved, Same, Improved}},
		{name: "health", verdic: [NumMetrics]Verdict{Same, Same, Same, Same}},
		{name: "login", onlyIn: "A"},
		{name: "<script>alert(1)</script>", verdic: [NumMetrics]Verdict{"", "", Improved, Same}},
		{name: "search", onlyIn: "B"},
	}
	if len(c.Rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %+v", len(c.Rows), len(wants), c.Rows)
	}
	for i, w := range wants {
		d := c.Rows[i]
		if d.Name != w.name {
			t.Errorf("row %d is %q, want %q", i, d.Name, w.name)
			continue
		}
		switch w.onlyIn {
		case "A":
			if d.A == nil || d.B != nil {
				t.Errorf("%q: want only in A", d.Name)
			}
		case "B":
			if d.A != nil || d.B == nil {
				t.Errorf("%q: want only in B", d.Name)
			}
		default:
			if d.Verdict != w.verdic {
				t.Errorf("%q: verdicts %v, want %v", d.Name, d.Verdict, w.verdic)
			}
		}
	}
	if c.Regressions != 2 || c.Improvements != 4 {
		t.Errorf("%d regressions, %d improvements; want 2, 4", c.Regressions, c.Improvements)
	}
	if got := c.Rows[1].DeltaPct[P95]; got != 40 {
		t.Errorf("list products p95 change %v%%, want 40%%", got)
	}
}

func TestCompareIdentical(t *testing.T) {
	a, _, ra, _ := pair()
	c := Compare(a, a, ra, ra, DefaultNoise)
	if c.Regressions != 0 || c.Improvements != 0 {
		t.Errorf("a run against itself: %d regressions, %d improvements", c.Regressions, c.Improvements)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestWriteText(t *testing.T) {
	a, b, ra, rb := pair()
	var buf bytes.Buffer
	if err := Compare(a, b, ra, rb, DefaultNoise).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.golden", buf.Bytes())
}

func TestWriteTextFromFile(t *testing.T) {
	a, b, ra, rb := pair()
	ra.ID = 0
	c := Compare(a, b, ra, rb, 0.1)
	c.SourceA = "baseline.json"
	var buf bytes.Buffer
	if err := c.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	if !strings.HasPrefix(first, "A (baseline)  baseline.json  shop  2026-05-01 10:00:00") {
		t.Errorf("header names the file: %q", first)
	}
	if !strings.Contains(buf.String(), "noise         10%,") {
		t.Errorf("noise not shown:\n%s", buf.String())
	}
}

func TestWriteTextHostileNames(t *testing.T) {
	a, b, ra, rb := pair()
	a.ByName[0].Name = "evil\x1b[2J\nname"
	b.ByName[1].Name = "evil\x1b[2J\nname"
	var buf bytes.Buffer
	if err := Compare(a, b, ra, rb, DefaultNoise).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\x1b") || !strings.Contains(buf.String(), "evil�[2J�name") {
		t.Errorf("control characters reached the terminal:\n%q", buf.String())
	}
}

func TestWriteRuns(t *testing.T) {
	runs := []Run{
		{ID: 13, Name: "shop", Model: "closed", Started: time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC), Requests: 12400, RPS: 1240, P95MS: 14.1, P99MS: 30, ErrorRate: 0, Status: StatusCompleted},
		{ID: 9, Target: "http://127.0.0.1:8080/", Model: "open", Started: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), Requests: 999, RPS: 99.9, P95MS: 1.5, P99MS: 2.25, ErrorRate: 0.0125, Interrupted: true, Status: StatusInterrupted},
	}
	var buf bytes.Buffer
	if err := WriteRuns(&buf, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "runs.golden", buf.Bytes())
}

func TestWriteHTML(t *testing.T) {
	a, b, ra, rb := pair()
	hostile := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `</script><script>alert(2)</script>`}
	a.ByName[3].Name = hostile[1]
	a.Name, b.Name = hostile[2], hostile[2]
	ra, rb = RunOf(a, ""), RunOf(b, "")
	ra.ID, rb.ID = 12, 13
	c := Compare(a, b, ra, rb, DefaultNoise)
	c.SourceA = `<b>file</b>.json`
	var buf bytes.Buffer
	if err := c.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, h := range append(hostile, "<img", "<b>") {
		if strings.Contains(page, h) {
			t.Errorf("page holds %q unescaped", h)
		}
	}
	if strings.Count(page, "<script") != 0 {
		t.Error("page holds a <script")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("hostile name not shown escaped")
	}

	// The CSP allows exactly the inline style, by its hash, and nothing else.
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	if csp == nil || style == nil {
		t.Fatalf("page has no CSP or no style:\n%s", page)
	}
	sum := sha256.Sum256([]byte(style[1]))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.HasPrefix(csp[1], "default-src 'none'; style-src "+hash) {
		t.Errorf("CSP %q does not allow the style by its hash %s", csp[1], hash)
	}
	if strings.Count(page, "<style") != 1 || strings.Contains(page, "style=") {
		t.Error("a style the CSP does not cover")
	}
	for _, want := range []string{`class="regressed"`, `class="improved"`, "only in A (gone)", "only in B (new)", "2 regressions, 4 improvements"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestCompareDifferences: runs that are not the same test (another plan,
// target, method or model) are said to be so, before any verdict, in text
// and HTML; the same plan at another load size is the same test.
func TestCompareDifferences(t *testing.T) {
	tests := []struct {
		name   string
		change func(b *report.Summary)
		want   []Difference
		says   string // the text's "differ in ..."
	}{
		{"same test", func(*report.Summary) {}, nil, ""},
		{"same plan, more clients", func(b *report.Summary) { b.Clients = 400 }, nil, ""},
		{"another plan", func(b *report.Summary) { b.Name = "checkout" },
			[]Difference{{"plan", "shop", "checkout"}}, "plan"},
		{"another target", func(b *report.Summary) { b.Target = "http://127.0.0.1:9090" },
			[]Difference{{"target", "http://127.0.0.1:8080", "http://127.0.0.1:9090"}}, "target"},
		{"a quick attack against a plan", func(b *report.Summary) { b.Name, b.Method = "", "POST" },
			[]Difference{{"plan", "shop", ""}, {"method", "", "POST"}}, "plan and method"},
		{"everything", func(b *report.Summary) {
			b.Name, b.Target, b.Method, b.Model = "x", "http://127.0.0.1:1", "GET", report.ModelOpen
		}, []Difference{{"plan", "shop", "x"}, {"target", "http://127.0.0.1:8080", "http://127.0.0.1:1"}, {"method", "", "GET"}, {"model", report.ModelClosed, report.ModelOpen}},
			"plan, target, method and model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, ra, rb := pair()
			tt.change(b)
			c := Compare(a, b, ra, rb, DefaultNoise)
			if len(c.Differences) != len(tt.want) {
				t.Fatalf("differences %q, want %q", c.Differences, tt.want)
			}
			for i := range tt.want {
				if c.Differences[i] != tt.want[i] {
					t.Errorf("difference %d is %q, want %q", i, c.Differences[i], tt.want[i])
				}
			}
			var text, page bytes.Buffer
			if err := c.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := c.WriteHTML(&page); err != nil {
				t.Fatal(err)
			}
			out := text.String()
			note := strings.Index(out, "not the same test: A and B differ in "+tt.says+", ")
			if tt.says == "" {
				if note >= 0 || strings.Contains(out, "see above") || strings.Contains(page.String(), "Not the same test") {
					t.Errorf("the same test is said to differ:\n%s", out)
				}
				return
			}
			if note < 0 || note > strings.Index(out, "regressed") {
				t.Errorf("the text does not say they differ in %s before it says regressed:\n%s", tt.says, out)
			}
			if !strings.Contains(out, " (between runs of different "+tt.says+": see above)\n") {
				t.Errorf("the totals do not recall the difference:\n%s", out)
			}
			p := page.String()
			if i := strings.Index(p, "A and B differ in "+tt.says); i < 0 || i > strings.Index(p, `class="regressed"`) {
				t.Errorf("the page does not say they differ in %s before it says regressed", tt.says)
			}
		})
	}
}

// TestCompareDifferencesText: how each side of a difference reads,
// hostile targets included.
func TestCompareDifferencesText(t *testing.T) {
	a, b, ra, rb := pair()
	b.Name, b.Method, b.Target = "", "POST", "http://x/\x1b[2J<script>"
	var text, page bytes.Buffer
	c := Compare(a, b, ra, rb, DefaultNoise)
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  plan    A shop                   B (none: fuka attack)\n",
		"  target  A http://127.0.0.1:8080  B http://x/�[2J<script>\n",
		"  method  A (the plan's)           B POST\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(page.String(), "<script>") || !strings.Contains(page.String(), "<dt>plan</dt><dd>A shop · B (none: fuka attack)</dd>") {
		t.Errorf("page:\n%s", page.String())
	}
}
