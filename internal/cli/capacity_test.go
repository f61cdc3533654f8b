package cli

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/capacity"
	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
)

// readCapacity reads a --json-out capacity result.
func readCapacity(t *testing.T, path string) run.CapacityDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc run.CapacityDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if doc.Capacity == nil {
		t.Fatalf("no capacity object:\n%s", b)
	}
	return doc
}

// TestCapacityKnownTarget searches a target that serves at most 400
// requests a second and queues the rest: the answer must land within the
// requested precision of 400.
func TestCapacityKnownTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("a ~30s search")
	}
	const n = 400.0
	const precision = 0.10
	srv := httptest.NewServer(demo.NewLimited(n, 10))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()
	out := filepath.Join(t.TempDir(), "capacity.json")
	begin := time.Now()
	// --min 50 and --confirm 2 spare the search steps and host stalls: the
	// test shares two CPUs with others, which stall it for 50ms at times.
	r := runCLI(t, ctx, "capacity", srv.URL+"/", "--slo", "p99 < 50ms", "--step", "1.5s", "--cooldown", "0.3s",
		"--precision", "10%", "--min", "50", "--confirm", "2", "--max-clients", "2000", "--json-out", out)
	t.Logf("search took %v\n%s", time.Since(begin).Round(time.Millisecond), r.out)
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.err)
	}
	rep := readCapacity(t, out).Capacity
	const slack = 0.02
	if lo, hi := n*(1-precision-slack), n*(1+0.05); rep.Answer < lo || rep.Answer > hi {
		t.Errorf("answer %v/s, want %v/s within [%v, %v]", rep.Answer, n, lo, hi)
	}
	if rep.Stopped != capacity.StopPrecision || rep.Limit != capacity.LimitLatency || rep.FailedAt <= rep.Answer {
		t.Errorf("stopped %q, limit %q, failed at %v", rep.Stopped, rep.Limit, rep.FailedAt)
	}
	if rep.Knee == nil || rep.Knee.Rate <= rep.Knee.BaselineRate {
		t.Errorf("knee %+v", rep.Knee)
	}
	// The 1.5s steps hold one whole measured second: fuka's own CPU is
	// sampled there.
	if rep.Steps[0].GenCPUPct == nil {
		t.Error("no generator CPU")
	}
	for _, want := range []string{"answer     ", "knee       ", "limit      latency", "phase"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if !strings.Contains(r.err, "step 1: 50/s") {
		t.Errorf("no per-step progress on stderr:\n%s", r.err)
	}
}

// TestCapacityMinFails: a target that refuses every connection is a hard
// failure at --min: exit 1, with the report.
func TestCapacityMinFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	out := filepath.Join(t.TempDir(), "c.json")
	r := runCLI(t, nil, "capacity", "http://"+addr+"/", "--slo", "p99 < 50ms, error_rate < 1%", "--min", "20",
		"--step", "1s", "--cooldown", "0s", "--json-out", out, "-q")
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want %d\n%s\n%s", r.code, ExitThresholds, r.out, r.err)
	}
	rep := readCapacity(t, out).Capacity
	if rep.Found || len(rep.Steps) != 1 || !rep.Steps[0].Refused || rep.Stopped != capacity.StopHard || rep.Limit != capacity.LimitErrors {
		t.Errorf("found %v steps %d stopped %q limit %q", rep.Found, len(rep.Steps), rep.Stopped, rep.Limit)
	}
	if !strings.Contains(r.out, "answer     none") {
		t.Errorf("stdout:\n%s", r.out)
	}
	// The step's own findings come with it (see docs/findings.md).
	if f := rep.Steps[0].Findings; len(f) == 0 || !slices.ContainsFunc(f, func(f report.Finding) bool { return f.Kind == "errors" }) {
		t.Errorf("the failing step's findings %+v, want its errors among them", f)
	}
}

// TestCapacityPlanMaxReached runs a plan: its thresholds are the SLO, each
// step shares the rate by weight, and --max ends the search.
func TestCapacityPlanMaxReached(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.yaml")
	os.WriteFile(plan, []byte(`name: cap
base_url: `+srv.URL+`
scenarios:
  home:
    steps:
      - get: /
load: { clients: 1, duration: 1s }
thresholds: [ "p99 < 1s", "error_rate < 1%" ]
`), 0o644)
	r := runCLI(t, nil, "capacity", plan, "--min", "5", "--max", "10", "--step", "1s", "--cooldown", "0s", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	var doc run.CapacityDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	rep := doc.Capacity
	if doc.Name != "cap" || rep.Answer != 10 || rep.Stopped != capacity.StopMax || !rep.LowerBound || len(rep.Steps) != 2 {
		t.Errorf("name %q answer %v stopped %q lower bound %v steps %d", doc.Name, rep.Answer, rep.Stopped, rep.LowerBound, len(rep.Steps))
	}
	if got := strings.Join(rep.SLO, ", "); got != "p99 < 1s, error_rate < 1%" {
		t.Errorf("SLO %q, want the plan's thresholds", got)
	}
	if s := rep.Steps[0]; s.Requests == 0 {
		t.Errorf("step 1 measured no requests")
	}
}

// TestCapacityInterrupted: a search cut short still prints and writes what
// it measured, and exits 130.
func TestCapacityInterrupted(t *testing.T) {
	url := newTarget(t).URL + "/"
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	out := filepath.Join(t.TempDir(), "c.json")
	r := runCLI(t, ctx, "capacity", url, "--slo", "p99 < 1s", "--min", "5", "--step", "1s", "--cooldown", "0s", "--json-out", out, "-q")
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s\n%s", r.code, ExitInterrupted, r.out, r.err)
	}
	doc := readCapacity(t, out)
	if !doc.Interrupted || doc.Capacity.Stopped != capacity.StopInterrupted || len(doc.Capacity.Steps) == 0 || !strings.Contains(r.out, "interrupted") {
		t.Errorf("interrupted %v, stopped %q, %d steps\n%s", doc.Interrupted, doc.Capacity.Stopped, len(doc.Capacity.Steps), r.out)
	}
}

func TestCapacityBadInput(t *testing.T) {
	url := newTarget(t).URL + "/"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no slo with a URL", []string{url}, "--slo is required"},
		{"bad slo", []string{url, "--slo", "p99 < fast"}, "--slo"},
		{"empty slo term", []string{url, "--slo", "p99 < 1s,"}, "empty"},
		{"bad precision", []string{url, "--slo", "p99 < 1s", "--precision", "150%"}, "--precision"},
		{"zero precision", []string{url, "--slo", "p99 < 1s", "--precision", "0"}, "--precision"},
		{"max below min", []string{url, "--slo", "p99 < 1s", "--min", "100", "--max", "50"}, "--max"},
		{"bad step", []string{url, "--slo", "p99 < 1s", "--step", "0s"}, "--step"},
		{"plan flag with a URL", []string{url, "--slo", "p99 < 1s", "--base-url", url}, "--base-url"},
		{"missing plan", []string{"nope.yaml", "--slo", "p99 < 1s"}, "nope.yaml"},
		{"two arguments", []string{url, url, "--slo", "p99 < 1s"}, "one plan file or URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"capacity"}, tc.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.err, ExitUsage, tc.want)
			}
		})
	}
}

// TestCapacityReport: the HTML report goes to the results folder by
// default (with capacity.json), to --report FILE, or nowhere with
// --no-report. One step of 1s each.
func TestCapacityReport(t *testing.T) {
	url := newTarget(t).URL + "/"
	search := func(extra ...string) []string {
		return append([]string{"capacity", url, "--slo", "p99 < 1s", "--min", "5", "--max", "5", "--step", "1s", "--cooldown", "0s"}, extra...)
	}
	page := func(t *testing.T, path string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"<!DOCTYPE html>", `<b id="answer-rate">5/s</b>`, "lower bound", url, "Content-Security-Policy"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
	t.Run("results folder", func(t *testing.T) {
		root := isolateResults(t)
		r := runCLI(t, nil, search("-q")...)
		if r.code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
		}
		dirs, _ := filepath.Glob(filepath.Join(root, "capacity-*"))
		if len(dirs) != 1 {
			t.Fatalf("want one capacity-* folder in %s, got %v", root, dirs)
		}
		path := filepath.Join(dirs[0], "capacity.html")
		page(t, path)
		if doc := readCapacity(t, filepath.Join(dirs[0], "capacity.json")); doc.Capacity.Answer != 5 || doc.Target != url {
			t.Errorf("capacity.json: answer %v target %q", doc.Capacity.Answer, doc.Target)
		}
		if !strings.Contains(r.out, "  report     "+path+"\n") {
			t.Errorf("stdout does not name the report %s:\n%s", path, r.out)
		}
	})
	t.Run("--report", func(t *testing.T) {
		root := isolateResults(t)
		path := filepath.Join(t.TempDir(), "sub", "cap.html")
		r := runCLI(t, nil, search("--report", path, "-o", "json")...)
		if r.code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
		}
		page(t, path)
		var doc run.CapacityDoc
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
			t.Errorf("stdout is not the JSON result alone: %v\n%s", err, r.out)
		}
		if !strings.Contains(r.err, "capacity: report "+path) {
			t.Errorf("stderr does not name the report:\n%s", r.err)
		}
		if _, err := os.Stat(root); err == nil {
			t.Errorf("--report also made a results folder %s", root)
		}
	})
	t.Run("--no-report", func(t *testing.T) {
		root := isolateResults(t)
		r := runCLI(t, nil, search("-q", "--no-report")...)
		if r.code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
		}
		if _, err := os.Stat(root); err == nil || strings.Contains(r.out, "report ") {
			t.Errorf("--no-report wrote a results folder (%v) or named a report:\n%s", err, r.out)
		}
	})
}
