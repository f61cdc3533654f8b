package report

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// junitDoc is the JUnit schema as a CI viewer reads it, declared apart from
// the writer's types so that a field the writer drops or renames is missed.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   *int   `xml:"errors,attr"`
		Time     string `xml:"time,attr"`
		Stamp    string `xml:"timestamp,attr"`
		Props    []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
			Out string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// ciSummary is a run of plan name with thresholds and checks.
func ciSummary(name string, th []ThresholdResult, checks []CheckSummary) *Summary {
	return &Summary{
		Name: name, Target: "http://127.0.0.1:8080", Model: ModelClosed,
		Started: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), DurationS: 10,
		Requests: 1000, Failed: 5, RPS: 100, Latency: Latency{P50MS: 1.5, P95MS: 4, P99MS: 9.25},
		Thresholds: th, Checks: checks,
	}
}

var (
	pass99 = ThresholdResult{Expr: "p99 < 300ms", Pass: true, Detail: "✓ p99 < 300ms (actual 9.3ms)"}
	fail99 = ThresholdResult{Expr: "p99 < 5ms", Pass: false, Detail: "✗ p99 < 5ms (actual 9.3ms)"}
	okChk  = CheckSummary{Name: "status is 200", Passes: 1000}
	badChk = CheckSummary{Name: "has <id>", Passes: 988, Fails: 12}
)

// TestWriteJUnit: one case per threshold and check and one for the run;
// the counts agree with the cases; a failed threshold is a <failure> whose
// message has the limit and the measured value; a check that failed on any
// response fails; the run case fails when the run did not run through.
func TestWriteJUnit(t *testing.T) {
	tests := []struct {
		name     string
		sum      *Summary
		v        Verdict
		failures []string // the failed cases' names, in order
		want     map[string]string
	}{
		{"pass", ciSummary("shop", []ThresholdResult{pass99}, []CheckSummary{okChk}), Verdict{Code: 0, Status: "completed"},
			nil, map[string]string{"p99 < 300ms": "p99 < 300ms (actual 9.3ms)", "requests completed": "1,000 requests, 5 failed"}},
		{"threshold failed", ciSummary("shop", []ThresholdResult{pass99, fail99}, nil), Verdict{Code: 1, Status: "failed_thresholds", Why: "1 of 2 thresholds failed"},
			[]string{"p99 < 5ms"}, map[string]string{"p99 < 5ms": "p99 < 5ms (actual 9.3ms)"}},
		{"check failed", ciSummary("shop", nil, []CheckSummary{okChk, badChk}), Verdict{Code: 0, Status: "completed"},
			[]string{"has <id>"}, map[string]string{"has <id>": "12 of 1,000 failed"}},
		{"interrupted", ciSummary("shop", []ThresholdResult{pass99}, nil), Verdict{Code: 130, Status: "interrupted", Why: "interrupted after 10s"},
			[]string{"requests completed"}, map[string]string{"requests completed": "interrupted after 10s"}},
		{"attack, all failed", &Summary{Method: "GET", Target: "http://127.0.0.1:1/", Requests: 7, Failed: 7}, Verdict{Code: 3, Status: "all_failed", Why: "every request failed: connection refused (7)"},
			[]string{"requests completed"}, map[string]string{"requests completed": "every request failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteJUnit(&b, tt.sum, tt.v); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`) {
				t.Errorf("no XML header: %.60q", out)
			}
			var doc junitDoc
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("not XML: %v\n%s", err, out)
			}
			if len(doc.Suites) != 1 {
				t.Fatalf("%d suites, want 1", len(doc.Suites))
			}
			s := doc.Suites[0]
			wantCases := len(tt.sum.Thresholds) + len(tt.sum.Checks) + 1
			if len(s.Cases) != wantCases || s.Tests != wantCases || doc.Tests != wantCases {
				t.Errorf("%d cases, tests=%d/%d; want %d", len(s.Cases), s.Tests, doc.Tests, wantCases)
			}
			var failed []string
			msgs := map[string]string{}
			for _, c := range s.Cases {
				if c.Classname == "" || c.Time == "" {
					t.Errorf("case %q: classname %q time %q", c.Name, c.Classname, c.Time)
				}
				msgs[c.Name] = c.Out
				if c.Failure != nil {
					failed = append(failed, c.Name)
					msgs[c.Name] = c.Failure.Message
					if c.Failure.Type == "" {
						t.Errorf("case %q: failure without a type", c.Name)
					}
				}
			}
			if strings.Join(failed, "|") != strings.Join(tt.failures, "|") {
				t.Errorf("failed cases %q, want %q", failed, tt.failures)
			}
			if s.Failures != len(tt.failures) || doc.Failures != len(tt.failures) {
				t.Errorf("failures=%d/%d, want %d", s.Failures, doc.Failures, len(tt.failures))
			}
			if s.Errors == nil || s.Time != "10.000" && tt.sum.DurationS == 10 {
				t.Errorf("suite errors %v time %q", s.Errors, s.Time)
			}
			for name, want := range tt.want {
				if !strings.Contains(msgs[name], want) {
					t.Errorf("case %q says %q, want it to contain %q", name, msgs[name], want)
				}
			}
			if tt.sum.Name == "" && s.Name != "fuka attack GET http://127.0.0.1:1/" {
				t.Errorf("attack suite named %q", s.Name)
			}
		})
	}
}

// TestWriteMarkdown: the verdict heads the summary, the key numbers are a
// table, thresholds and checks carry ✓/✗, the comparison is there, and a
// hostile name cannot open a tag or a table cell.
func TestWriteMarkdown(t *testing.T) {
	tests := []struct {
		name     string
		sum      *Summary
		v        Verdict
		previous string
		want     []string
		not      []string
	}{
		{"pass", ciSummary("shop", []ThresholdResult{pass99}, []CheckSummary{okChk}), Verdict{Code: 0, Status: "completed"}, "**Compared with #3**",
			[]string{"### ✅ fuka run shop: passed", "| 1,000 | 100/s | 1.50ms | 4.00ms | 9.25ms | 5 (0.50%) | 10s |", "**Thresholds**", "- ✓ p99 &lt; 300ms (actual 9.3ms)", "- ✓ status is 200: 1,000 passed, 0 failed", "**Compared with #3**"},
			[]string{"✗"}},
		{"failed", ciSummary("shop", []ThresholdResult{pass99, fail99}, []CheckSummary{badChk}), Verdict{Code: 1, Status: "failed_thresholds", Why: "1 of 2 thresholds failed"}, "History is off",
			[]string{"### ❌ fuka run shop: failed", "1 of 2 thresholds failed", "- ✗ p99 &lt; 5ms (actual 9.3ms)", "- ✗ has &lt;id&gt;: 988 passed, 12 failed", "History is off"}, nil},
		{"all failed", &Summary{Method: "GET", Target: "http://127.0.0.1:1/", Requests: 7, Failed: 7}, Verdict{Code: 3, Status: "all_failed", Why: "every request failed"}, "",
			[]string{"### ⚠️ fuka attack GET http://127.0.0.1:1/: all failed", "| 7 | 0/s | — | — | — | 7 (100.00%)"}, nil},
		{"hostile name", ciSummary("a|b<script>\n# x", nil, nil), Verdict{Status: "completed"}, "",
			[]string{"a\\|b&lt;script&gt; \\# x"}, []string{"<script>", "\n# x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteMarkdown(&b, tt.sum, tt.v, tt.previous); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("has %q in\n%s", w, out)
				}
			}
		})
	}
}
