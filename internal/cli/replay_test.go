package cli

import (
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/history"
)

// TestReportReplaysLiveText: fuka report N prints, byte for byte, what the
// live run printed on stdout, for a run with a ramp-up, a monitor, profiles,
// thresholds (one failing), a warning and an HTML report. Every section is
// also looked for in the live text, so that both sides missing it fails too.
func TestReportReplaysLiveText(t *testing.T) {
	tg := newTarget(t)
	mux := http.NewServeMux() // never the default mux: no global handlers
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	pp := httptest.NewServer(mux)
	defer pp.Close()
	isolateResults(t)
	dir := t.TempDir()
	// Two rows for a scenario of its own that needs one per iteration: its
	// client stops after two, the run goes on, and the summary warns.
	if err := os.WriteFile(filepath.Join(dir, "coupons.csv"), []byte("code\nA\nB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := writePlanFile(t, dir, "plan.yaml", tg.URL, `
base_url: BASE
data:
  coupons: { csv: coupons.csv, pick: unique, on_exhausted: stop_client }
scenarios:
  browse:
    load: { clients: 2, ramp_up: 1s, duration: 3s, max_rps: 200 }
    steps: [ { get: /items, name: items, check: { status: 200 } } ]
  redeem:
    load: { clients: 1, duration: 3s }
    steps: [ { get: "/redeem/{{ coupons.code }}", name: redeem } ]
thresholds: ["p99 < 10s", "requests > 1000000000"]
monitor: [ local ]
profile:
  - { pprof: `+pp.URL+`, at: 1s, seconds: 1, kinds: [cpu, goroutine] }
`)
	hist := filepath.Join(t.TempDir(), "history.db")
	live := fuka(t, "run", path, "-q", "--history", hist)
	if live.code != ExitThresholds {
		t.Fatalf("live run: exit %d, want %d (a failed threshold); stderr %q\n%s", live.code, ExitThresholds, live.err, live.out)
	}
	for _, want := range []string{
		"\n  thresholds   ✓ p99 < 10s", "✗ requests > 1000000000",
		"\n  resources    series", "\n  profile      cpu " + pp.URL, "\n  profile      goroutine " + pp.URL,
		"\n  WARNING      data ran out: coupons", "\n  report       ",
	} {
		if !strings.Contains(live.out, want) {
			t.Errorf("the live text lacks %q:\n%s", want, live.out)
		}
	}
	stored := fuka(t, "report", "last", "--history", hist)
	if stored.code != ExitOK {
		t.Fatalf("fuka report: exit %d, stderr %q", stored.code, stored.err)
	}
	if stored.out != live.out {
		t.Errorf("fuka report differs from the live run:\n--- live\n%s--- report\n%s", live.out, stored.out)
	}

	s, err := history.Open(hist)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sum, _, err := s.Get(1)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Transport == "" || sum.Resources == nil || len(sum.Profiles) != 2 || len(sum.Thresholds) != 2 || len(sum.Warnings) == 0 || sum.ReportFile == "" {
		t.Errorf("the stored summary lacks what the live run watched: transport %q, resources %v, %d profiles, %d thresholds, warnings %q, report %q",
			sum.Transport, sum.Resources != nil, len(sum.Profiles), len(sum.Thresholds), sum.Warnings, sum.ReportFile)
	}
}

// TestReportReplaysRampUp: the closed model's ramp-up, in the header, and
// the transport line (TLS goes through net/http) survive the history.
func TestReportReplaysRampUp(t *testing.T) {
	tg := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tg.Close()
	isolateResults(t)
	hist := filepath.Join(t.TempDir(), "history.db")
	live := runCLI(t, nil, "attack", tg.URL+"/", "-d", "1s", "-c", "2", "--ramp-up", "500ms", "--max-rps", "50", "--insecure", "-q", "--no-report", "--history", hist)
	if live.code != ExitOK {
		t.Fatalf("live run: exit %d, stderr %q", live.code, live.err)
	}
	for _, want := range []string{"ramp-up 0.5s", "max 50/s", "\n  transport    net/http"} {
		if !strings.Contains(live.out, want) {
			t.Errorf("the live text lacks %q:\n%s", want, live.out)
		}
	}
	stored := runCLI(t, nil, "report", "last", "--history", hist)
	if stored.code != ExitOK || stored.out != live.out {
		t.Errorf("fuka report (exit %d, %s) differs from the live run:\n--- live\n%s--- report\n%s", stored.code, stored.err, live.out, stored.out)
	}
}
