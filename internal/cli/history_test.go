package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/report"
)

// storedSummary is a plan run with two request names; p95 sets the
// latency of "list products", so that two of them compare as a regression
// or an improvement.
func storedSummary(name string, started time.Time, p95 float64) *report.Summary {
	byName := func(n string, requests int64, p95 float64) report.NameSummary {
		return report.NameSummary{Name: n, Requests: requests, RPS: float64(requests) / 10,
			Latency: report.Latency{MinMS: 0.1, P50MS: p95 / 2, P95MS: p95, P99MS: p95 * 2, MaxMS: p95 * 3},
			Status:  map[string]int64{"200": requests}}
	}
	return &report.Summary{
		Version: "v0.1.0", Name: name, Target: "http://127.0.0.1:8080", Model: report.ModelClosed,
		LatencyFrom: report.FromSend, Started: started, DurationS: 10, PlannedDurationS: 10, Clients: 4,
		Requests: 3000, RPS: 300,
		Latency:     report.Latency{MinMS: 0.1, P50MS: 2, P95MS: p95, P99MS: p95 * 2, MaxMS: p95 * 3},
		ServiceTime: report.Latency{MinMS: 0.1, P50MS: 2, P95MS: p95, P99MS: p95 * 2, MaxMS: p95 * 3},
		Status:      map[string]int64{"200": 3000},
		ByName:      []report.NameSummary{byName("list products", 2000, p95), byName("checkout", 1000, 20)},
		Timeline:    []report.Interval{},
	}
}

// histWith saves summaries (with their statuses) into a new history file.
func histWith(t *testing.T, sums []*report.Summary, statuses []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	for i, s := range sums {
		id, _, err := history.Save(path, s, statuses[i])
		if err != nil {
			t.Fatal(err)
		}
		if id != int64(i+1) {
			t.Fatalf("run %d saved as id %d", i+1, id)
		}
	}
	return path
}

var day = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// oneLine checks that a usage error is exit 2 with one line naming want.
func oneLine(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != ExitUsage || strings.Count(r.err, "\n") != 1 || !strings.Contains(r.err, want) {
		t.Errorf("want exit 2 and one line with %q; got %d, stderr %q", want, r.code, r.err)
	}
}

func TestRuns(t *testing.T) {
	path := histWith(t,
		[]*report.Summary{storedSummary("shop", day, 10), storedSummary("blog", day.Add(time.Hour), 12), storedSummary("shop", day.Add(2*time.Hour), 11)},
		[]string{history.StatusCompleted, history.StatusInterrupted, history.StatusFailedThresholds})

	r := runCLI(t, nil, "runs", "--history", path)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "id  started") ||
		!strings.HasPrefix(lines[1], " 3  ") || !strings.Contains(lines[1], "failed_thresholds") ||
		!strings.Contains(lines[2], "blog") || !strings.Contains(lines[2], "interrupted") {
		t.Errorf("runs:\n%s", r.out)
	}
	for _, col := range []string{"name", "model", "requests", "rps", "p95", "p99", "error %", "status"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header lacks %q: %s", col, lines[0])
		}
	}

	r = runCLI(t, nil, "runs", "--history", path, "--name", "shop", "-n", "1")
	if lines := strings.Split(strings.TrimSpace(r.out), "\n"); r.code != 0 || len(lines) != 2 || !strings.HasPrefix(strings.TrimSpace(lines[1]), "3  ") {
		t.Errorf("runs --name shop -n 1:\n%s", r.out)
	}

	missing := filepath.Join(t.TempDir(), "none.db")
	r = runCLI(t, nil, "runs", "--history", missing)
	if r.code != 0 || r.out != "no runs yet\n" {
		t.Errorf("no history: %d %q %q", r.code, r.out, r.err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("listing created a history file")
	}
}

func TestReport(t *testing.T) {
	sum := storedSummary("shop", day, 10)
	path := histWith(t, []*report.Summary{sum}, []string{history.StatusCompleted})

	var want bytes.Buffer
	sum.WriteJSON(&want)
	r := runCLI(t, nil, "report", "1", "--history", path, "-o", "json")
	if r.code != 0 || r.out != want.String() {
		t.Errorf("report -o json: exit %d, %s\n got %s\nwant %s", r.code, r.err, r.out, want.String())
	}
	r = runCLI(t, nil, "report", "last", "--history", path)
	if r.code != 0 || !strings.HasPrefix(r.out, "fuka run  shop  http://127.0.0.1:8080") || !strings.Contains(r.out, "list products") {
		t.Errorf("report text: exit %d, %s\n%s", r.code, r.err, r.out)
	}

	page := filepath.Join(t.TempDir(), "run.html")
	r = runCLI(t, nil, "report", "1", "--history", path, "--html", page)
	if b, err := os.ReadFile(page); r.code != 0 || err != nil || !bytes.Contains(b, []byte("Content-Security-Policy")) {
		t.Errorf("report --html: exit %d, %s, %v", r.code, r.err, err)
	}

	oneLine(t, runCLI(t, nil, "report", "99", "--history", path), "no such run 99")
	oneLine(t, runCLI(t, nil, "report", "abc", "--history", path), `"abc" is not a run id`)
	oneLine(t, runCLI(t, nil, "report", "1", "--history", path, "-o", "yaml"), `-o "yaml"`)
	oneLine(t, runCLI(t, nil, "report", "1", "--history", filepath.Join(t.TempDir(), "none.db")), "no run history yet")
}

func TestCompareCLI(t *testing.T) {
	// 1 is the good baseline, 2 an interrupted run, 3 the new run whose
	// list products p95 went from 10ms to 15ms.
	path := histWith(t,
		[]*report.Summary{storedSummary("shop", day, 10), storedSummary("shop", day.Add(time.Hour), 30), storedSummary("shop", day.Add(2*time.Hour), 15)},
		[]string{history.StatusCompleted, history.StatusInterrupted, history.StatusCompleted})

	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"regression shown", []string{"1", "3"}, 0, []string{"A (baseline)  #1  shop", "B (new)       #3  shop", "▲ regressed", "4 regressions, 0 improvements"}},
		{"fail on regression", []string{"1", "3", "--fail-on-regression"}, ExitRegression, []string{"regressed"}},
		{"improvement passes", []string{"3", "1", "--fail-on-regression"}, 0, []string{"▼ improved", "0 regressions, 4 improvements"}},
		{"within a wide noise", []string{"1", "3", "--noise", "60%", "--fail-on-regression"}, 0, []string{"noise         60%", "0 regressions"}},
		{"last-completed before last", []string{"last-completed", "last", "--fail-on-regression"}, ExitRegression, []string{"#1  shop", "#3  shop"}},
		{"last before 3", []string{"last", "3"}, 0, []string{"#2  shop  " + day.Add(time.Hour).Local().Format("2006-01-02 15:04:05") + "  interrupted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"compare", "--history", path}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s\n%s", r.code, tt.code, r.err, r.out)
			}
			for _, want := range tt.contains {
				if !strings.Contains(r.out, want) {
					t.Errorf("output lacks %q:\n%s", want, r.out)
				}
			}
		})
	}
}

// TestCompareCLIDifferentTests: compare of runs of another plan or
// target says so before its first "regressed".
func TestCompareCLIDifferentTests(t *testing.T) {
	other := storedSummary("shop", day.Add(time.Hour), 15)
	other.Target = "http://127.0.0.1:9090"
	path := histWith(t,
		[]*report.Summary{storedSummary("shop", day, 10), other, storedSummary("checkout", day.Add(2*time.Hour), 15), storedSummary("shop", day.Add(3*time.Hour), 15)},
		[]string{history.StatusCompleted, history.StatusCompleted, history.StatusCompleted, history.StatusCompleted})
	tests := []struct {
		name string
		args []string
		says string // "" for the same test
	}{
		{"another target", []string{"1", "2"}, "target"},
		{"another plan", []string{"1", "3"}, "plan"},
		{"the same test", []string{"1", "4"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"compare", "--history", path}, tt.args...)...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %s", r.code, r.err)
			}
			regressed := strings.Index(r.out, "regressed")
			if regressed < 0 {
				t.Fatalf("no regression shown:\n%s", r.out)
			}
			note := strings.Index(r.out, "not the same test: A and B differ in "+tt.says+",")
			switch {
			case tt.says == "" && strings.Contains(r.out, "not the same test"):
				t.Errorf("the same test is said to differ:\n%s", r.out)
			case tt.says != "" && (note < 0 || note > regressed):
				t.Errorf("does not say they differ in %s before it says regressed:\n%s", tt.says, r.out)
			}
		})
	}
}

func TestCompareFiles(t *testing.T) {
	// CI keeps a baseline as a JSON file and compares the new run to it,
	// stored or as JSON too.
	dir := t.TempDir()
	base, next := filepath.Join(dir, "base.json"), filepath.Join(dir, "next.json")
	for p, s := range map[string]*report.Summary{base: storedSummary("shop", day, 10), next: storedSummary("shop", day.Add(time.Hour), 15)} {
		var b bytes.Buffer
		s.WriteJSON(&b)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(dir, "none.db")
	r := runCLI(t, nil, "compare", base, next, "--history", missing, "--fail-on-regression")
	if r.code != ExitRegression || !strings.Contains(r.out, "A (baseline)  "+base+"  shop") {
		t.Errorf("two files: exit %d, %s\n%s", r.code, r.err, r.out)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("comparing two files opened the history")
	}

	path := histWith(t, []*report.Summary{storedSummary("shop", day.Add(time.Hour), 9)}, []string{history.StatusCompleted})
	page := filepath.Join(dir, "compare.html")
	r = runCLI(t, nil, "compare", base, "last", "--history", path, "--html", page, "--fail-on-regression")
	if r.code != 0 || !strings.Contains(r.out, "B (new)       #1  shop") {
		t.Errorf("file against stored: exit %d, %s\n%s", r.code, r.err, r.out)
	}
	if b, err := os.ReadFile(page); err != nil || !bytes.Contains(b, []byte("default-src 'none'")) {
		t.Errorf("--html: %v", err)
	}

	notSummary := filepath.Join(dir, "plan.json")
	os.WriteFile(notSummary, []byte(`{"name": "shop"}`), 0o644)
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("not json"), 0o644)
	oneLine(t, runCLI(t, nil, "compare", filepath.Join(dir, "nope.json"), "1", "--history", path), "is not a run id, last, last-completed or a JSON summary file")
	oneLine(t, runCLI(t, nil, "compare", notSummary, "1", "--history", path), "not a fuka JSON summary (no fuka_version key)")
	oneLine(t, runCLI(t, nil, "compare", garbage, "1", "--history", path), "garbage.json: not a fuka JSON summary")
	oneLine(t, runCLI(t, nil, "compare", base, "7", "--history", path), "no such run 7")
	oneLine(t, runCLI(t, nil, "compare", base, "1", "--history", path, "--noise", "lots"), `--noise "lots"`)
	oneLine(t, runCLI(t, nil, "compare", "last-completed", "last", "--history", path), "no completed run of \"shop\" before run 1")
	oneLine(t, runCLI(t, nil, "compare", "1"), "compare takes two runs")
}

// TestCorruptHistory: the commands that read a corrupt history say what
// to do.
func TestCorruptHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	os.WriteFile(path, bytes.Repeat([]byte("garbage "), 1000), 0o644)
	oneLine(t, runCLI(t, nil, "runs", "--history", path), "move it away or pass --history FILE")
}
