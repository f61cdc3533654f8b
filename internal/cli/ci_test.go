package cli

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ciJUnit is what a CI viewer reads of --junit.
type ciJUnit struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestCIFiles runs fuka run and fuka attack end to end with --junit,
// --summary-md and $GITHUB_STEP_SUMMARY: passed, failed thresholds, every
// request failed, and interrupted runs each write both files, whole, with
// the cases failed that should be; the second run of a plan is compared
// with the first.
func TestCIFiles(t *testing.T) {
	tg := newTarget(t)
	dir := t.TempDir()
	plan := func(name, thresholds string) string {
		p := filepath.Join(dir, name+".yaml")
		src := "name: " + name + "\nbase_url: " + tg.URL + "\nscenarios:\n  s:\n    steps:\n      - get: /\n        check: { status: 200 }\n" +
			"load: { clients: 2, duration: 600ms }\nthresholds: [" + thresholds + "]\n"
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hist := filepath.Join(dir, "history.db")
	pass := plan("pass", `"p99 < 10s", "error_rate < 1%"`)
	tests := []struct {
		name     string
		args     []string
		cancel   time.Duration // interrupt the run after this long
		code     int
		failures []string // the failed JUnit cases
		md       []string // in the markdown summary
	}{
		{"first run", []string{"run", pass}, 0, 0, nil,
			[]string{"### ✅ fuka run pass: passed", "- ✓ p99 &lt; 10s", "- ✓ GET /: status is 200", "No run history yet"}},
		{"second run is compared", []string{"run", pass}, 0, 0, nil,
			[]string{"### ✅ fuka run pass: passed", "**Compared with \\#1, pass,", "| (all requests) |"}},
		{"threshold failed", []string{"run", plan("fail", `"p99 < 10s", "rps > 100000000"`)}, 0, 1, []string{"rps > 100000000"},
			[]string{"### ❌ fuka run fail: failed", "1 of 2 thresholds failed", "- ✗ rps &gt; 100000000 (actual", "No earlier completed run of this plan"}},
		{"attack, every request failed", []string{"attack", "http://127.0.0.1:1/", "-n", "3", "-c", "1"}, 0, 3, []string{"requests completed"},
			[]string{"### ⚠️ fuka attack GET http://127.0.0.1:1/: all failed", "every request failed"}},
		{"interrupted", []string{"attack", tg.URL + "/", "-d", "20s", "-c", "1"}, 700 * time.Millisecond, 130, []string{"requests completed"},
			[]string{"### ⚠️ fuka attack GET " + tg.URL + "/: interrupted", "interrupted: the run ended early"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			junit := filepath.Join(dir, "out", tt.name, "junit.xml")
			md := filepath.Join(dir, "out", tt.name, "summary.md")
			step := filepath.Join(dir, "step.md")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if tt.cancel > 0 {
				time.AfterFunc(tt.cancel, cancel)
			}
			args := append([]string{"fuka"}, tt.args...)
			args = append(args, "-q", "-o", "none", "--no-report", "--history", hist, "--junit", junit, "--summary-md", md)
			var out, errb bytes.Buffer
			code := Main(ctx, args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb, StepSummary: step})
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errb.String())
			}
			b, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			var doc ciJUnit
			if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 1 {
				t.Fatalf("--junit: %v, %d suites:\n%s", err, len(doc.Suites), b)
			}
			var failed []string
			for _, c := range doc.Suites[0].Cases {
				if c.Failure != nil {
					failed = append(failed, c.Name)
				}
			}
			if strings.Join(failed, "|") != strings.Join(tt.failures, "|") || doc.Failures != len(tt.failures) || doc.Tests != len(doc.Suites[0].Cases) {
				t.Errorf("failed cases %q (failures=%d, tests=%d of %d cases), want %q\n%s", failed, doc.Failures, doc.Tests, len(doc.Suites[0].Cases), tt.failures, b)
			}
			mdb, err := os.ReadFile(md)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.md {
				if !strings.Contains(string(mdb), w) {
					t.Errorf("--summary-md misses %q:\n%s", w, mdb)
				}
			}
			// The step summary gets each run's markdown appended.
			stepb, err := os.ReadFile(step)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(stepb), "\n### "); n+1 != i+1 || !strings.HasSuffix(string(stepb), string(mdb)) {
				t.Errorf("$GITHUB_STEP_SUMMARY has %d summaries after %d runs, or does not end with this one", n+1, i+1)
			}
		})
	}
}

// TestCIFilesBadPath: a --junit or --summary-md that cannot be written (a
// folder) is a usage error found before the load: exit 2, nothing sent.
func TestCIFilesBadPath(t *testing.T) {
	tg := newTarget(t)
	dir := t.TempDir()
	cmds := map[string][]string{
		"attack":   {"attack", tg.URL + "/", "-d", "1s"},
		"capacity": {"capacity", tg.URL + "/", "--slo", "p99 < 1s", "--step", "1s"},
	}
	for name, cmd := range cmds {
		for _, flag := range []string{"--junit", "--summary-md"} {
			t.Run(name+" "+flag, func(t *testing.T) {
				r := runCLI(t, nil, append(cmd, "-q", "--no-history", "--no-report", flag, dir)...)
				if r.code != ExitUsage || !strings.Contains(r.err, flag+": ") {
					t.Errorf("exit %d, stderr %q; want 2 and %s named", r.code, r.err, flag)
				}
				if n := tg.n.Load(); n != 0 {
					t.Errorf("%d requests sent", n)
				}
			})
		}
	}
}

// TestCICapacity: fuka capacity writes the CI files too; a search in which
// no rate met the SLO has its failing term and "capacity found" failed.
func TestCICapacity(t *testing.T) {
	dir := t.TempDir()
	junit, md := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.md")
	r := runCLI(t, nil, "capacity", "http://127.0.0.1:1/", "--slo", "p99 < 50ms, error_rate < 1%", "--min", "20",
		"--step", "1s", "--cooldown", "0s", "-q", "--no-report", "--no-history", "--junit", junit, "--summary-md", md)
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitThresholds, r.err)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc ciJUnit
	if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 1 {
		t.Fatalf("--junit: %v\n%s", err, b)
	}
	var failed []string
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
		}
	}
	if want := "error_rate < 1%|capacity found"; strings.Join(failed, "|") != want || doc.Tests != 3 {
		t.Errorf("failed %q of %d, want %q of 3\n%s", failed, doc.Tests, want, b)
	}
	mdb, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(mdb), "### ⚠️ fuka capacity http://127.0.0.1:1/: no rate met the SLO") {
		t.Errorf("--summary-md (%v):\n%s", err, mdb)
	}
}
