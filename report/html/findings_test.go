package html_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html/htmltest"
)

// withFindings is the sample run with a finding on a resource chart, one
// on a load chart, and hostile text in the sentences.
func withFindings(inject string) *report.Summary {
	s := htmltest.Sample(20, inject)
	lim := 90.0
	s.Findings = []report.Finding{
		{Kind: "cpu", Subject: report.SubjectTarget, Summary: "all CPUs were busy" + inject, AtS: 12, Confidence: report.ConfidenceCorrelates, Chart: report.ChartAnchor("cpu.user_pct"),
			Evidence: []report.Evidence{{Series: "cpu.user_pct" + inject, FromS: 12, ToS: 20, Peak: 95, Mean: 93, Limit: &lim}}},
		{Kind: "knee", Subject: report.SubjectLoad, Summary: "the knee: from 12s", AtS: 12, Confidence: report.ConfidenceMeasured, Chart: report.ChartAnchor("rps"),
			Evidence: []report.Evidence{{Series: "rps", FromS: 12, ToS: 20, Peak: 400, Mean: 380}}},
	}
	return s
}

func TestFindingsSection(t *testing.T) {
	out := render(t, withFindings(""))
	sec, sum := strings.Index(out, `<section id="findings"`), strings.Index(out, `<section id="summary"`)
	if sec < 0 || sec > sum {
		t.Fatalf("the findings section is missing or after the summary (%d, %d)", sec, sum)
	}
	for _, want := range []string{
		`<a href="#findings">findings</a>`,
		`data-kind="cpu"><span class="badge warn">correlates</span> all CPUs were busy`,
		`<span class="series">cpu.user_pct 12s–20s mean 93.0% peak 95.0% (limit 90.0%)</span>`,
		`<a href="#chart-cpu-pct">chart</a>`, `<a href="#chart-rps">chart</a>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if out := render(t, htmltest.Sample(5, "")); strings.Contains(out, `id="findings"`) {
		t.Error("a run without findings has a findings section")
	}
	hostile := render(t, withFindings(htmltest.Hostile))
	if n := strings.Count(strings.ToLower(hostile), "<script"); n != 5 {
		t.Errorf("%d <script> tags with hostile findings, want the page's 5", n)
	}
}

// TestBrowserFindings: every finding's chart link leads to a chart drawn
// on the page, and the findings are on the first screen.
func TestBrowserFindings(t *testing.T) {
	tab := htmltest.Start(t)
	url := "file://" + writePage(t, withFindings(""))
	tab.Open(t, url)
	tab.WaitFor(t, "the charts", "window.fukaReport && window.fukaReport.charts().length > 0")
	missing := htmltest.Eval[[]string](t, tab, `Array.from(document.querySelectorAll("#findings a[href^='#']"))
	  .map(a => a.getAttribute("href").slice(1))
	  .filter(id => { const el = document.getElementById(id); return !el || !el.querySelector("canvas"); })`)
	if len(missing) > 0 {
		t.Errorf("finding links without a drawn chart: %q", missing)
	}
	if top := htmltest.Eval[float64](t, tab, `document.getElementById("findings").getBoundingClientRect().top`); top > 900 {
		t.Errorf("the findings start %vpx down the page, not on its first screen", top)
	}
	if p := tab.Problems(t); len(p) > 0 {
		t.Errorf("problems on the page: %q", p)
	}
	tab.Screenshot(t, filepath.Join("testdata", "artifacts", "findings.png"))
}
