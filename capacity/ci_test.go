package capacity

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// TestCapacityJUnit: a case per SLO term as the answer step measured it
// (the first failing rate beside it), and "capacity found", which fails
// without an answer or when interrupted; the markdown says the same.
func TestCapacityJUnit(t *testing.T) {
	step := func(rate float64, terms ...string) StepResult {
		pass := !strings.Contains(strings.Join(terms, ""), "✗")
		return StepResult{Rate: rate, Pass: pass, Terms: terms}
	}
	found := &Report{SLO: []string{"p99 < 50ms", "error_rate < 1%"}, Min: 10, Answer: 400, Found: true, FailedAt: 440, Stopped: StopPrecision,
		Steps: []StepResult{
			step(400, "✓ p99 < 50ms (actual 12.0ms)", "✓ error_rate < 1% (actual 0.00%)"),
			step(440, "✗ p99 < 50ms (actual 81.0ms)", "✓ error_rate < 1% (actual 0.00%)"),
		}}
	none := &Report{SLO: []string{"p99 < 50ms", "error_rate < 1%"}, Min: 10, Stopped: StopHard,
		Steps: []StepResult{step(10, "✓ p99 < 50ms (actual 1.0ms)", "✗ error_rate < 1% (actual 100.00%)")}}
	tests := []struct {
		name        string
		rep         *Report
		interrupted bool
		failed      []string
		msgs        map[string]string
		md          []string
	}{
		{"found", found, false, nil,
			map[string]string{"p99 < 50ms": "at 400/s: p99 < 50ms (actual 12.0ms); at 440/s: ✗ p99 < 50ms (actual 81.0ms)", "capacity found": "400/s met the SLO; 440/s failed"},
			[]string{"### ✅ fuka capacity shop: 400/s met the SLO; 440/s failed", "- ✓ p99 &lt; 50ms: at 400/s"}},
		{"interrupted", found, true, []string{"capacity found"},
			map[string]string{"capacity found": "interrupted: 400/s met the SLO"}, []string{"### ⚠️"}},
		{"none met the SLO", none, false, []string{"error_rate < 1%", "capacity found"},
			map[string]string{"error_rate < 1%": "at 10/s: error_rate < 1% (actual 100.00%)", "capacity found": "no rate met the SLO: even 10/s failed"},
			[]string{"### ⚠️ fuka capacity shop: no rate met the SLO", "- ✗ error\\_rate &lt; 1%: at 10/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := RunInfo{Name: "shop", Target: "http://127.0.0.1:8080", Started: time.Unix(0, 0), Duration: 30 * time.Second, Interrupted: tt.interrupted}
			var b strings.Builder
			if err := tt.rep.JUnit(info).Write(&b); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Suite    struct {
					Cases []struct {
						Name    string `xml:"name,attr"`
						Out     string `xml:"system-out"`
						Failure *struct {
							Message string `xml:"message,attr"`
						} `xml:"failure"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal([]byte(b.String()), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Tests != len(tt.rep.SLO)+1 || len(doc.Suite.Cases) != doc.Tests || doc.Failures != len(tt.failed) {
				t.Errorf("tests %d (%d cases), failures %d; want %d, %d", doc.Tests, len(doc.Suite.Cases), doc.Failures, len(tt.rep.SLO)+1, len(tt.failed))
			}
			var failed []string
			for _, c := range doc.Suite.Cases {
				msg := c.Out
				if c.Failure != nil {
					failed, msg = append(failed, c.Name), c.Failure.Message
				}
				if want, ok := tt.msgs[c.Name]; ok && !strings.Contains(msg, want) {
					t.Errorf("case %q says %q, want %q", c.Name, msg, want)
				}
			}
			if strings.Join(failed, "|") != strings.Join(tt.failed, "|") {
				t.Errorf("failed %q, want %q", failed, tt.failed)
			}
			var md strings.Builder
			if err := tt.rep.WriteMarkdown(&md, info); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.md {
				if !strings.Contains(md.String(), w) {
					t.Errorf("markdown misses %q:\n%s", w, md.String())
				}
			}
		})
	}
}
