package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests run `fuka run`, `fuka validate` and `fuka init` in process on
// plan files written to a temporary directory, against httptest servers on
// 127.0.0.1.

// planTarget is a server that answers every request with status(path) and
// counts what it served.
type planTarget struct {
	*httptest.Server
	n atomic.Int64
}

func newPlanTarget(t *testing.T, status func(path string) int) *planTarget {
	t.Helper()
	tg := &planTarget{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status(r.URL.Path))
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(tg.Close)
	return tg
}

func always(code int) func(string) int { return func(string) int { return code } }

// mostly answers code, except every tenth request, which gets 200.
func mostly(code int) func(string) int {
	var n atomic.Int64
	return func(string) int {
		if n.Add(1)%10 == 0 {
			return 200
		}
		return code
	}
}

// writePlanFile writes src, with BASE replaced by base, to dir/name.
func writePlanFile(t *testing.T, dir, name, base, src string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(src, "BASE", base)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fuka runs the CLI in process with a deadline well past any plan's own end.
func fuka(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := Main(ctx, append([]string{"fuka"}, args...), Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return result{code, out.String(), errb.String()}
}

// planSummary is the part of the JSON summary of a plan run the tests read.
type planSummary struct {
	Target   string   `json:"target"`
	Targets  []string `json:"targets"`
	Requests int64    `json:"requests"`
	Failed   int64    `json:"failed"`
	Checks   []struct {
		Name   string `json:"name"`
		Passes int64  `json:"passes"`
		Fails  int64  `json:"fails"`
	} `json:"checks"`
	Thresholds []struct {
		Expr   string `json:"expr"`
		Pass   bool   `json:"pass"`
		Detail string `json:"detail"`
	} `json:"thresholds"`
	Scenarios []nameCount `json:"scenarios"`
}

func planJSON(t *testing.T, stdout string) planSummary {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	var s planSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("stdout's last line is not the JSON summary (%v): %q", err, stdout)
	}
	return s
}

// TestRunThresholds: thresholds, whole-run and scoped to a request name, a
// group and a scenario, decide the exit code, and the JSON summary shows
// each one's verdict.
func TestRunThresholds(t *testing.T) {
	// Scenario "good" (client 0) calls /ok; scenario "bad" (client 1) calls
	// /ok too, then /fail in group "flaky", which answers 500.
	tg := newPlanTarget(t, func(p string) int {
		if p == "/fail" {
			return 500
		}
		return 200
	})
	ok := newPlanTarget(t, always(200))
	echo := httptest.NewServer(http.HandlerFunc((&wsEcho{}).handler))
	t.Cleanup(echo.Close)
	const twoScenarios = `
base_url: BASE
scenarios:
  good:
    steps:
      - get: /ok
        name: fine
        check: { status: 200 }
  bad:
    steps:
      - get: /ok
        name: also fine
      - group: flaky
        steps:
          - get: /fail
            name: broken
            check: { status: 200 }
load: { clients: 2, iterations: 20 }
thresholds:
`
	cases := []struct {
		name       string
		base       string
		plan       string
		thresholds map[string]bool // expression -> pass
		allFailed  bool            // every request fails: exit 3 before thresholds' 1
	}{
		{"all pass", ok.URL, `
scenarios:
  s:
    steps: [ { get: /x, check: { status: 200 } } ]
load: { clients: 2, iterations: 10 }
thresholds:
`, map[string]bool{"p99 < 5s": true, "error_rate < 1%": true, "checks > 99%": true, "requests == 20": true}, false},
		{"p99 below a microsecond", ok.URL, `
scenarios:
  s:
    steps: [ { get: /x } ]
load: { clients: 1, iterations: 5 }
thresholds:
`, map[string]bool{"p99 < 1us": false, "error_rate < 1%": true}, false},
		{"error rate against 500s", newPlanTarget(t, always(500)).URL, `
scenarios:
  s:
    steps: [ { get: /x, check: { status: 200 } } ]
load: { clients: 1, iterations: 5 }
thresholds:
`, map[string]bool{"error_rate < 1%": false, "checks > 99%": false, "p99 < 5s": true}, true},
		{"scoped", tg.URL, twoScenarios, map[string]bool{
			"good.error_rate < 1%":        true,  // scenario
			"good.checks > 99%":           true,  // scenario
			"bad.error_rate > 40%":        true,  // scenario: half its requests fail
			"bad.error_rate < 1%":         false, // scenario
			"flaky.error_rate == 100%":    true,  // group
			"flaky.checks > 99%":          false, // group
			"fine.requests == 20":         true,  // request name
			`"also fine".error_rate < 1%`: true,  // quoted request name
			"broken.error_rate < 1%":      false, // request name
			"error_rate < 1%":             false, // whole run: 20 of 60 failed
			"requests == 60":              true,
		}, false},
		{"checks scoped to a request named with a colon", ok.URL, `
scenarios:
  sc:
    steps:
      - get: /x
        name: "api: home"
        check: { status: 200 }
load: { clients: 1, iterations: 3 }
thresholds:
`, map[string]bool{`"api: home".checks > 99%`: true, "sc.checks > 99%": true, "checks > 99%": true}, false},
		// A WebSocket scenario counts its handshakes and round trips.
		{"websocket scenario", echo.URL, `
scenarios:
  chat:
    steps:
      - ws: /chat
        name: join
      - send: hi
        name: hi
        expect: { contains: hi }
        timeout: 5s
      - close: 1000
load: { clients: 1, iterations: 3 }
thresholds:
`, map[string]bool{"chat.error_rate < 1%": true, "chat.requests == 6": true, "chat.p99 < 5s": true, "chat.requests < 6": false}, false},
		// Its third step waits for a message that never comes.
		{"websocket scenario with failures", echo.URL, `
scenarios:
  chat:
    steps:
      - ws: /chat
        name: join
      - send: hi
        name: hi
        expect: { contains: hi }
        timeout: 5s
      - send: lost
        name: lost
        expect: { contains: never }
        timeout: 50ms
      - close: 1000
load: { clients: 1, iterations: 3 }
thresholds:
`, map[string]bool{"chat.requests == 9": true, "chat.failed == 3": true, "chat.error_rate > 30%": true, "chat.error_rate < 1%": false, "requests == 9": true}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.plan
			if !strings.Contains(src, "base_url") {
				src = "base_url: BASE" + src
			}
			want := 0
			for expr, pass := range tc.thresholds {
				src += "  - '" + expr + "'\n"
				if !pass {
					want = 1
				}
			}
			if tc.allFailed {
				want = ExitAllFailed
			}
			path := writePlanFile(t, t.TempDir(), "plan.yaml", tc.base, src)
			r := fuka(t, "run", path, "-q", "-o", "json")
			if r.code != want {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, want, r.err)
			}
			s := planJSON(t, r.out)
			if len(s.Thresholds) != len(tc.thresholds) {
				t.Errorf("%d thresholds in the summary, want %d: %+v", len(s.Thresholds), len(tc.thresholds), s.Thresholds)
			}
			for _, th := range s.Thresholds {
				pass, ok := tc.thresholds[th.Expr]
				if !ok {
					t.Errorf("unexpected threshold %q in the summary", th.Expr)
					continue
				}
				if th.Pass != pass {
					t.Errorf("%s: pass %v, want %v (%s)", th.Expr, th.Pass, pass, th.Detail)
				}
			}
		})
	}
}

// TestRunChecksInSummary: check counts by name reach the JSON summary.
func TestRunChecksInSummary(t *testing.T) {
	var n atomic.Int64
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.WriteHeader(500)
		}
	}))
	defer tg.Close()
	path := writePlanFile(t, t.TempDir(), "plan.yaml", tg.URL, `
base_url: BASE
scenarios:
  s:
    steps: [ { get: /half, name: half, check: { status: 200 } } ]
load: { clients: 1, iterations: 10 }
thresholds: ["checks > 99%", "checks > 40%"]
`)
	r := fuka(t, "run", path, "-q", "-o", "json")
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (checks > 99%% fails); stderr: %s", r.code, r.err)
	}
	s := planJSON(t, r.out)
	if len(s.Checks) != 1 || s.Checks[0].Name != "half: status is 200" || s.Checks[0].Passes != 5 || s.Checks[0].Fails != 5 {
		t.Errorf("checks %+v, want half: status is 200 with 5 passes and 5 fails", s.Checks)
	}
	if len(s.Thresholds) != 2 || s.Thresholds[0].Pass || !s.Thresholds[1].Pass {
		t.Errorf("thresholds %+v, want checks > 99%% failed and checks > 40%% passed", s.Thresholds)
	}
}

// TestRunAbortWhen: a hopeless run (9 responses in 10 a 500) is stopped by
// abort_when long before its 20s duration, and exits 1.
func TestRunAbortWhen(t *testing.T) {
	tg := newPlanTarget(t, mostly(500))
	path := writePlanFile(t, t.TempDir(), "plan.yaml", tg.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /x
      - think: 10ms
load: { clients: 2, duration: 20s }
abort_when:
  - threshold: error_rate > 50%
    for: 1s
`)
	start := time.Now()
	r := fuka(t, "run", path, "-q", "-o", "json")
	took := time.Since(start)
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr: %s", r.code, r.err)
	}
	if took > 4*time.Second {
		t.Errorf("the run took %v; abort_when should stop it after ~1s", took)
	}
	if !strings.Contains(r.err, "aborted early") {
		t.Errorf("stderr does not say the run was aborted: %q", r.err)
	}
	s := planJSON(t, r.out)
	if len(s.Thresholds) != 1 || s.Thresholds[0].Expr != "abort_when" || s.Thresholds[0].Pass {
		t.Errorf("thresholds %+v, want one failed abort_when", s.Thresholds)
	}
	if s.Requests == 0 || s.Failed*10 < s.Requests*8 {
		t.Errorf("requests %d, failed %d; want about 9 in 10 failed", s.Requests, s.Failed)
	}
}

// TestValidateExamples: the plans shipped in examples/ are valid.
func TestValidateExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := fuka(t, "validate", f)
			if r.code != 0 || !strings.Contains(r.out, ": ok:") {
				t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
			}
		})
	}
}

// TestValidateBadPlan: every problem of a bad plan is listed at once, each
// as file:line:col, with exit 2 — and neither validate nor run sends a
// request.
func TestValidateBadPlan(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	dir := t.TempDir()
	path := writePlanFile(t, dir, "bad.yaml", tg.URL, `base_url: BASE
data:
  users: { csv: missing.csv }
scenarios:
  s:
    steps:
      - get: /x
        hedaers: { A: b }
      - get: /y?n={{ nosuchfunc 1 }}
      - think: 3s..1s
load: { clients: 2, duration: 5 }
thresholds: ["p99 <<< 1s"]
`)
	for _, cmd := range []string{"validate", "run"} {
		t.Run(cmd, func(t *testing.T) {
			args := []string{cmd, path}
			if cmd == "run" {
				args = append(args, "-q")
			}
			r := fuka(t, args...)
			t.Logf("stderr:\n%s", r.err)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			lineRE := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:\d+:\d+: \S`)
			var located int
			for _, line := range strings.Split(strings.TrimSpace(r.err), "\n") {
				if lineRE.MatchString(line) {
					located++
				}
			}
			if located < 3 {
				t.Errorf("%d errors with file:line:col, want several at once; stderr:\n%s", located, r.err)
			}
			for _, want := range []string{"missing.csv", "hedaers", "think"} {
				if !strings.Contains(r.err, want) {
					t.Errorf("stderr does not mention %q:\n%s", want, r.err)
				}
			}
		})
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("a bad plan sent %d requests", n)
	}
}

// TestValidateCompileErrors: problems only found when templates and
// thresholds are compiled (unknown function, unknown variable, a threshold
// that does not parse) are listed together, each at its place.
func TestValidateCompileErrors(t *testing.T) {
	path := writePlanFile(t, t.TempDir(), "plan.yaml", "http://127.0.0.1:1", `base_url: BASE
scenarios:
  s:
    steps:
      - get: /y?n={{ nosuchfunc 1 }}
      - get: /z/{{ nosuchvar }}
load: { clients: 1, iterations: 1 }
thresholds: ["p99 <<< 1s"]
`)
	r := fuka(t, "validate", path)
	if r.code != 2 {
		t.Errorf("exit %d, want 2; stdout %q", r.code, r.out)
	}
	for _, want := range []string{path + ":5:", path + ":6:", path + ":8:", "nosuchfunc", "nosuchvar"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, r.err)
		}
	}
}

// TestInit: `fuka init` writes a plan that validates, and does not
// overwrite a file without --force.
func TestInit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "starter.yaml")
	if r := fuka(t, "init", path); r.code != 0 {
		t.Fatalf("init: exit %d, stderr %q", r.code, r.err)
	}
	if r := fuka(t, "validate", path); r.code != 0 {
		t.Errorf("the starter plan does not validate: exit %d, stderr:\n%s", r.code, r.err)
	}
	if err := os.WriteFile(path, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := fuka(t, "init", path)
	if r.code != 2 || !strings.Contains(r.err, "--force") {
		t.Errorf("init over an existing file: exit %d, stderr %q; want 2 and a hint to use --force", r.code, r.err)
	}
	if b, _ := os.ReadFile(path); string(b) != "mine\n" {
		t.Errorf("init overwrote the file without --force: %q", b)
	}
	if r := fuka(t, "init", "--force", path); r.code != 0 {
		t.Errorf("init --force: exit %d, stderr %q", r.code, r.err)
	}
	if r := fuka(t, "validate", path); r.code != 0 {
		t.Errorf("the plan written with --force does not validate: %s", r.err)
	}
}

// TestRunScenarioAndGroupRows: a plan's summary has a row per scenario and
// per group, each the merge of its requests, in JSON, text and HTML.
func TestRunScenarioAndGroupRows(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	dir := t.TempDir()
	path := writePlanFile(t, dir, "plan.yaml", tg.URL, `
base_url: BASE
scenarios:
  browse:
    steps:
      - get: /a
        name: a
      - group: catalog
        steps:
          - get: /b
            name: b
          - get: /c
            name: c
  buy:
    steps: [ { post: /d, name: d } ]
load: { clients: 2, iterations: 5 }
`)
	report := filepath.Join(dir, "report.html")
	r := fuka(t, "run", path, "-q", "-o", "json", "--report", report)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var s struct {
		Requests  int64 `json:"requests"`
		Scenarios []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"scenarios"`
		Groups []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"groups"`
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Scenarios) != 2 || s.Scenarios[0].Name != "browse" || s.Scenarios[1].Name != "buy" {
		t.Fatalf("scenarios %+v", s.Scenarios)
	}
	if s.Scenarios[0].Requests+s.Scenarios[1].Requests != s.Requests || s.Requests != tg.n.Load() {
		t.Errorf("scenario rows %+v do not add up to %d requests (target %d)", s.Scenarios, s.Requests, tg.n.Load())
	}
	// Client 0 browses (3 requests an iteration), client 1 buys (1).
	if len(s.Groups) != 1 || s.Groups[0].Name != "catalog" || s.Groups[0].Requests != 10 {
		t.Errorf("groups %+v, want catalog with 10 requests", s.Groups)
	}
	html, err := os.ReadFile(report)
	if err != nil || !strings.Contains(string(html), "Scenarios and groups") || !strings.Contains(string(html), "group catalog") {
		t.Errorf("report lacks the scenario table (err %v)", err)
	}
	txt := fuka(t, "run", path, "-q", "--no-report")
	if !strings.Contains(txt.out, "by scenario") || !strings.Contains(txt.out, "by group") {
		t.Errorf("text summary lacks scenario/group tables:\n%s", txt.out)
	}
}
