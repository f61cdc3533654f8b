package cli

import (
	"encoding/json"
	stdhtml "html"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/report"
)

// These tests check that the figures fuka prints say what they mean: the
// rules that watch a run, why a run ended, what failed, and how a run in
// which nothing got through is reported.

// TestAbortWhenRefusesInertRules: an abort_when rule that could never fire
// (a metric its scope does not have, a scope that does not exist) is a plan
// error at its file:line:col, found by validate and run before anything is
// sent; the metrics thresholds know are all accepted.
func TestAbortWhenRefusesInertRules(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	const head = `base_url: BASE
scenarios:
  s:
    steps:
      - group: g
        steps:
          - get: /x
            name: x
load: { clients: 1, iterations: 1 }
abort_when:
`
	tests := []struct {
		rule string
		want string // "" = valid; else the message after file:line:col
	}{
		{"p999 > 1s", ""},
		{"min > 1s", ""},
		{"mean > 1s", ""},
		{"max > 1s", ""},
		{"g.p99 > 1s", ""},
		{"x.error_rate > 10%", ""},
		{"rps < 1", ""},
		{"dropped > 5", ""},
		{"checks < 90%", `abort_when "checks < 90%": the plan has no checks`},
		{"nosuch.p99 > 1s", `abort_when "nosuch.p99 > 1s": no request, scenario or group is named "nosuch"`},
		{"s.dropped > 1", `abort_when "s.dropped > 1": dropped is counted for the whole run only`},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			path := writePlanFile(t, t.TempDir(), "plan.yaml", tg.URL, head+"  - threshold: "+tt.rule+"\n")
			r := fuka(t, "validate", path)
			if tt.want == "" {
				if r.code != 0 {
					t.Errorf("exit %d, want 0; stderr %s", r.code, r.err)
				}
				return
			}
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			// The rule is on line 11, its text starts at column 16.
			re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `:11:16: ` + regexp.QuoteMeta(tt.want))
			if !re.MatchString(r.err) {
				t.Errorf("stderr does not point at the rule with %q:\n%s", tt.want, r.err)
			}
		})
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("validate sent %d requests", n)
	}
}

// TestOpenModelComparesStarts: `fuka run --rate 10` of a plan whose
// iterations make two requests each reports the starts it made against the
// starts that were due (all of them: 100%), and the requests on their own —
// not "achieved 200%" from comparing requests with starts.
func TestOpenModelComparesStarts(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	path := writePlanFile(t, t.TempDir(), "plan.yaml", tg.URL, `base_url: BASE
scenarios:
  s:
    steps:
      - get: /login
      - get: /home
load: { clients: 1, duration: 1s }
`)
	r := fuka(t, "run", path, "--rate", "10", "--duration", "2s", "-q", "-o", "json", "--no-history", "--no-report")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr %s", r.code, r.err)
	}
	var s struct {
		Requests           int64    `json:"requests"`
		RequestedRPS       *float64 `json:"requested_rps"`
		StartsDue          *int64   `json:"starts_due"`
		Starts             *int64   `json:"starts"`
		RequestedStartRate *float64 `json:"requested_start_rate"`
		AchievedStartRatio *float64 `json:"achieved_start_ratio"`
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatal(err)
	}
	if s.StartsDue == nil || *s.StartsDue != 20 || s.Starts == nil || *s.Starts != 20 {
		t.Errorf("starts %v of %v due, want 20 of 20", deref(s.Starts), deref(s.StartsDue))
	}
	if s.RequestedStartRate == nil || *s.RequestedStartRate != 10 || s.AchievedStartRatio == nil || *s.AchievedStartRatio != 1 {
		t.Errorf("requested %v starts/s, achieved %v; want 10 and 1", deref(s.RequestedStartRate), deref(s.AchievedStartRatio))
	}
	if s.RequestedRPS != nil {
		t.Errorf("requested_rps %v, want null: the open model asks for starts, not requests", *s.RequestedRPS)
	}
	if s.Requests != 40 || tg.n.Load() != 40 {
		t.Errorf("requests %d, served %d; want 40 (2 per start)", s.Requests, tg.n.Load())
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestEndReason: the summary says why the run ended — in the JSON, in the
// text and in the HTML report — and a run cut short by its data says so
// instead of ending silently after a fraction of its planned time.
func TestEndReason(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	const csv = "code\na\nb\nc\nd\ne\n"
	tests := []struct {
		name   string
		plan   string // the scenarios and load; a plan-level data source "codes" is there
		args   []string
		reason string
		detail string
		text   string // the text summary's "ended" row
		early  bool
	}{
		{
			name: "unique data ran out, end_run",
			plan: `data: { codes: { csv: codes.csv, pick: unique, on_exhausted: end_run } }
scenarios:
  s: { steps: [ { get: "/x?c={{ codes.code }}" }, { think: 50ms } ] }
load: { clients: 1, duration: 5s }
`,
			reason: "data_exhausted", detail: "codes (end_run)",
			text: "  ended        early, after ", early: true,
		},
		{
			name: "unique data ran out, every client stopped",
			plan: `data: { codes: { csv: codes.csv, pick: unique } }
scenarios:
  s: { steps: [ { get: "/x?c={{ codes.code }}" } ] }
load: { clients: 2, duration: 5s }
`,
			reason: "data_exhausted", detail: "codes (stop_client)",
			text: ": data ran out: codes (stop_client)\n", early: true,
		},
		{
			name: "duration",
			plan: `scenarios:
  s: { steps: [ { get: /x }, { think: 100ms } ] }
load: { clients: 1, duration: 1s }
`,
			reason: "duration", text: "  ended        at the end of its planned duration\n",
		},
		{
			name: "iterations",
			plan: `scenarios:
  s: { steps: [ { get: /x } ] }
load: { clients: 2, iterations: 3, duration: 10s }
`,
			reason: "iterations", text: "  ended        when every client had run its iterations\n",
		},
		{
			name: "open model",
			plan: `scenarios:
  s: { steps: [ { get: /x } ] }
load: { rate: [ { target: 20, over: 1s } ], max_clients: 5 }
`,
			reason: "duration", text: "  ended        at the end of its planned duration\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "codes.csv"), []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
			path := writePlanFile(t, dir, "plan.yaml", tg.URL, "base_url: BASE\n"+tt.plan)
			jsonOut := filepath.Join(dir, "s.json")
			htmlOut := filepath.Join(dir, "r.html")
			start := time.Now()
			r := fuka(t, append([]string{"run", path, "-q", "--no-history", "--json-out", jsonOut, "--report", htmlOut}, tt.args...)...)
			took := time.Since(start)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr %s", r.code, r.err)
			}
			sum := readSummary(t, jsonOut)
			if sum.EndReason != tt.reason || sum.EndDetail != tt.detail {
				t.Errorf("end_reason %q, end_detail %q; want %q, %q", sum.EndReason, sum.EndDetail, tt.reason, tt.detail)
			}
			if tt.early && took > 4*time.Second {
				t.Errorf("the run took %v; it should have ended when its data ran out", took)
			}
			if !strings.Contains(r.out, tt.text) {
				t.Errorf("the text summary lacks %q:\n%s", tt.text, r.out)
			}
			page, err := os.ReadFile(htmlOut)
			if err != nil {
				t.Fatal(err)
			}
			end := report.EndText(sum.EndReason, sum.EndDetail, time.Duration(sum.DurationS*float64(time.Second)).Round(time.Millisecond), time.Duration(sum.PlannedDurationS*float64(time.Second)))
			dd := "<dd>"
			if tt.early {
				dd = `<dd class="bad">`
			}
			if !strings.Contains(string(page), "<dt>ended</dt>"+dd+stdhtml.EscapeString(end)+"</dd>") {
				t.Errorf("the HTML report does not say %s%q", dd, end)
			}
		})
	}
}

// TestEndReasonAbortAndRequests: an abort_when rule that stopped the run is
// named as the reason, and a quick attack bounded by -n ended with its
// requests.
func TestEndReasonAbortAndRequests(t *testing.T) {
	tg := newPlanTarget(t, mostly(500))
	dir := t.TempDir()
	path := writePlanFile(t, dir, "plan.yaml", tg.URL, `base_url: BASE
scenarios:
  s: { steps: [ { get: /x }, { think: 10ms } ] }
load: { clients: 1, duration: 20s }
abort_when:
  - { threshold: error_rate > 50%, for: 1s }
`)
	out := filepath.Join(dir, "abort.json")
	r := fuka(t, "run", path, "-q", "--no-history", "--no-report", "--json-out", out)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	sum := readSummary(t, out)
	if sum.EndReason != report.EndAbortWhen || !strings.HasPrefix(sum.EndDetail, "error_rate > 50% held for 1s") {
		t.Errorf("end_reason %q, end_detail %q; want abort_when and the rule", sum.EndReason, sum.EndDetail)
	}
	if !strings.Contains(r.out, ": abort_when: error_rate > 50% held for 1s") {
		t.Errorf("the text does not say abort_when ended the run:\n%s", r.out)
	}

	out = filepath.Join(dir, "n.json")
	r = fuka(t, "attack", tg.URL+"/", "-n", "50", "-c", "2", "-q", "--no-history", "--no-report", "--json-out", out)
	if sum := readSummary(t, out); sum.EndReason != report.EndRequests || sum.Requests != 50 {
		t.Errorf("end_reason %q after %d requests, want %q after 50 (exit %d, stderr %s)", sum.EndReason, sum.Requests, report.EndRequests, r.code, r.err)
	}
}

// TestEveryRequestFailed: a run in which no request got a successful
// response says so plainly, with a hint, exits 3 and is stored with status
// all_failed; a run with failures but some successes is a run like any
// other.
func TestEveryRequestFailed(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	closed := "http://127.0.0.1:" + freePort(t) + "/"
	tests := []struct {
		name   string
		args   []string
		code   int
		status string
		msg    []string // in stderr and in the summary's warnings
	}{
		{
			name: "nothing listening", args: []string{"attack", closed, "-n", "20", "-c", "2"},
			code: ExitAllFailed, status: history.StatusAllFailed,
			msg: []string{"every request failed: connection refused (20) — is the target running at " + closed + "?"},
		},
		{
			name: "TLS refused without --insecure", args: []string{"attack", tlsSrv.URL + "/", "-n", "10", "-c", "1"},
			code: ExitAllFailed, status: history.StatusAllFailed,
			msg: []string{"every request failed: TLS handshake failed (10)", "--insecure skips verification"},
		},
		{
			name: "TLS with --insecure", args: []string{"attack", tlsSrv.URL + "/", "-n", "10", "-c", "1", "--insecure"},
			code: ExitOK, status: history.StatusCompleted,
		},
		{
			name: "every response a 503", args: []string{"attack", newPlanTarget(t, always(503)).URL + "/", "-n", "30", "-c", "3"},
			code: ExitAllFailed, status: history.StatusAllFailed,
			msg: []string{"every request failed: HTTP 503 (30)"},
		},
		{
			name: "most responses 503, some 200", args: []string{"attack", newPlanTarget(t, mostly(503)).URL + "/", "-n", "30", "-c", "1"},
			code: ExitOK, status: history.StatusCompleted,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			hist, out := filepath.Join(dir, "h.db"), filepath.Join(dir, "s.json")
			r := fuka(t, append(tt.args, "-q", "--no-report", "--history", hist, "--json-out", out, "--timeout", "2s")...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", r.code, tt.code, r.err)
			}
			sum := readSummary(t, out)
			for _, m := range tt.msg {
				if !strings.Contains(r.out, m) || !strings.Contains(r.out, "  WARNING      every request failed") {
					t.Errorf("the text summary lacks %q:\n%s", m, r.out)
				}
				if !strings.Contains(strings.Join(sum.Warnings, "\n"), m) {
					t.Errorf("the summary's warnings lack %q: %q", m, sum.Warnings)
				}
			}
			if len(tt.msg) == 0 && strings.Contains(r.out+r.err+strings.Join(sum.Warnings, ""), "every request failed") {
				t.Errorf("a run with successes says every request failed: %s %q", r.err, sum.Warnings)
			}
			runs := storedRuns(t, hist)
			if len(runs) != 1 || runs[0].Status != tt.status {
				t.Errorf("stored %+v, want one run with status %s", runs, tt.status)
			}
		})
	}
}

// TestEveryRequestFailedJSON: with -o json on stdout, the plain sentence
// goes to stderr for the person at the terminal.
func TestEveryRequestFailedJSON(t *testing.T) {
	closed := "http://127.0.0.1:" + freePort(t) + "/"
	r := fuka(t, "attack", closed, "-n", "5", "-q", "--no-report", "--no-history", "-o", "json")
	want := "fuka: every request failed: connection refused (5) — is the target running at " + closed + "?"
	if r.code != ExitAllFailed || !strings.Contains(r.err, want) {
		t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.err, ExitAllFailed, want)
	}
}
