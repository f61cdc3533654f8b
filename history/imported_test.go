package history

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/report"
)

// importedPair is one of fuka's runs and a wrk run of the same target:
// wrk reported no p95, and its p99 is far lower than fuka's.
func importedPair() (a, b *report.Summary) {
	a = &report.Summary{Name: "api", Target: "http://127.0.0.1:8080", Model: report.ModelClosed,
		Started: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), DurationS: 10, Requests: 1000, RPS: 100,
		Latency: report.Latency{P95MS: 12, P99MS: 30}}
	b = &report.Summary{Name: "api", Target: "http://127.0.0.1:8080", Model: report.ModelClosed,
		Started: time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC), DurationS: 10, Requests: 1000, RPS: 100,
		Latency: report.Latency{P99MS: 20},
		Imported: &report.Imported{Tool: "wrk", Format: "wrk", File: "wrk.txt", Percentiles: report.PercentilesGiven,
			NotMeasured: []string{"latency.p95_ms", "timeline"}, Notes: []string{"wrk runs a closed model"}}}
	return a, b
}

func TestCompareImported(t *testing.T) {
	a, b := importedPair()
	c := Compare(a, b, RunOf(a, ""), RunOf(b, ""), DefaultNoise)
	whole := c.Rows[0]
	if v := whole.Verdict[P95]; v != "" || c.Improvements != 1 || c.Regressions != 0 {
		t.Fatalf("p95 verdict %q, %d improvements %d regressions; want no p95 verdict (wrk did not measure it), the p99 improvement only", v, c.Improvements, c.Regressions)
	}
	if whole.Verdict[P99] != Improved {
		t.Errorf("p99 verdict %q; the p99 wrk gave is compared", whole.Verdict[P99])
	}
	if got := c.Differences; len(got) != 1 || got[0] != (Difference{What: "tool", A: "fuka", B: "wrk"}) {
		t.Errorf("differences %+v; want the tool only", got)
	}
	var text bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"B (wrk)       imported from wrk (wrk): percentiles as given by the tool; not measured: latency.p95_ms, timeline\n",
		"              wrk runs a closed model\n",
		"A and B differ in tool",
		"p95      12.00ms        —       n/a    not measured by wrk",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var page bytes.Buffer
	if err := c.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<dt>B (wrk)</dt><dd>imported from wrk (wrk): percentiles as given by the tool;", "not measured by wrk", "<dd>wrk runs a closed model</dd>"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	var md bytes.Buffer
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "not measured by wrk") {
		t.Errorf("markdown lacks the not-measured verdict:\n%s", md.String())
	}
}

// TestListImported: fuka runs marks an imported run's tool and shows a
// percentile the tool did not report as —, not 0.00ms.
func TestListImported(t *testing.T) {
	a, b := importedPair()
	b.Name = "api-wrk"
	path := filepath.Join(t.TempDir(), "h.db")
	for _, s := range []*report.Summary{a, b} {
		if _, _, err := Save(path, s, ""); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := WriteList(&out, path, 0, ""); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.Contains(lines[1], "api-wrk (wrk)") || !strings.Contains(lines[1], "—  20.00ms") {
		t.Errorf("imported run listed as %q", lines[1])
	}
	if strings.Contains(lines[2], "—") || strings.Contains(lines[2], "(") {
		t.Errorf("fuka's run listed as %q", lines[2])
	}
}

// TestCompareImportedPlan: a run imported from a tool without plans, under
// the tool's name, compares with fuka attack URL as the same test (only
// the tool differs); a name given to it, a tool with plans, or vegeta
// sending to several URLs is a plan.
func TestCompareImportedPlan(t *testing.T) {
	one := []report.NameSummary{{Name: "GET /"}}
	tests := []struct {
		name, tool, as, method string
		byName                 []report.NameSummary
		plan                   bool // a plan difference is said
	}{
		{"wrk", "wrk", "wrk", "GET", one, false},
		{"hey", "hey", "hey", "GET", one, false},
		{"bombardier", "bombardier", "bombardier", "GET", one, false},
		{"vegeta, one URL", "vegeta", "vegeta", "GET", one, false},
		{"vegeta, several URLs", "vegeta", "vegeta", "GET", append(one, report.NameSummary{Name: "GET /b"}), true},
		{"wrk named by the user", "wrk", "api", "GET", one, true},
		{"JMeter", "JMeter", "JMeter", "GET", one, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &report.Summary{Target: "http://127.0.0.1:8080/", Method: "GET", Model: report.ModelClosed, ByName: one}
			b := &report.Summary{Name: tt.as, Target: a.Target, Method: tt.method, Model: report.ModelClosed, ByName: tt.byName,
				Imported: &report.Imported{Tool: tt.tool}}
			c := Compare(a, b, RunOf(a, ""), RunOf(b, ""), DefaultNoise)
			want := []Difference{{"tool", "fuka", tt.tool}}
			if tt.plan {
				want = append([]Difference{{"plan", "", tt.as}}, want...)
			}
			if !slices.Equal(c.Differences, want) {
				t.Errorf("differences %q, want %q", c.Differences, want)
			}
		})
	}
}

// TestResolveImportedPlan: "last-completed last" after importing a run
// from a tool without plans takes the run before it whatever its plan,
// as after fuka attack; after a tool with plans, a run of that plan.
func TestResolveImportedPlan(t *testing.T) {
	tests := []struct {
		tool string
		want int64 // A's id; 0: no such run
	}{
		{"wrk", 1},
		{"JMeter", 0},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			one := []report.NameSummary{{Name: "GET /"}}
			at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
			attack := &report.Summary{Target: "http://127.0.0.1:8080/", Method: "GET", Model: report.ModelClosed, ByName: one, Started: at, DurationS: 1, Requests: 10}
			imp := &report.Summary{Name: tt.tool, Target: attack.Target, Method: "GET", Model: report.ModelClosed, ByName: one, Started: at.Add(time.Hour), DurationS: 1, Requests: 10,
				Imported: &report.Imported{Tool: tt.tool}}
			for _, s := range []*report.Summary{attack, imp} {
				if _, _, err := Save(path, s, ""); err != nil {
					t.Fatal(err)
				}
			}
			a, b, err := ResolvePair(path, "", "last-completed", "last")
			if tt.want == 0 {
				if err == nil {
					t.Errorf("A = run %d, want none: no other run of plan %q", a.Run.ID, tt.tool)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Run.ID != tt.want || b.Run.ID != 2 {
				t.Errorf("A, B = %d, %d; want %d, 2", a.Run.ID, b.Run.ID, tt.want)
			}
		})
	}
}
