package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/capacity"
	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/run"
)

// stepsInHistory checks that the history at db holds one completed run per
// step of rep, named after its rate, and returns their requests in all.
func stepsInHistory(t *testing.T, db string, rep run.CapacityDoc) int64 {
	t.Helper()
	s, err := history.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.List(0, "")
	if err != nil {
		t.Fatal(err)
	}
	var names, want []string
	var requests int64
	for _, r := range runs {
		names = append(names, r.Name)
		requests += r.Requests
		if r.Status != history.StatusCompleted {
			t.Errorf("step %q stored as %q, want %q", r.Name, r.Status, history.StatusCompleted)
		}
	}
	for _, st := range rep.Capacity.Steps {
		want = append(want, "capacity step "+capacity.FormatRate(st.Rate)+"/s")
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("history holds %q, want the steps %q", names, want)
	}
	return requests
}

// TestCapacityOnWorkers: `fuka capacity URL --workers 2 --monitor local`
// runs every step on the same two workers (each worker's session spans
// the search and ends with it, exit 0), finds the answer, stores each step
// in the history (fuka runs lists them), and measures the target's CPU.
// Without a warm-up, the steps measure exactly what the target served:
// the workers' intervals are merged whole, the last partial ones too.
func TestCapacityOnWorkers(t *testing.T) {
	// The SLO is loose on purpose: this test is about where the steps run
	// and what they store, not latency; a host stalled by other tests must
	// not fail it.
	// 300 ms a response: the requests in flight at a step's end complete in
	// its last, partial second.
	tg := newPlanTarget(t, func(string) int { time.Sleep(300 * time.Millisecond); return 200 })
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "history.db")
	res, codes := distributed(t, 2,
		[]string{"capacity", tg.URL + "/", "--slo", "p99 < 10s", "--workers", "2", "--listen", addr, "--insecure-no-tls",
			"--monitor", "local", "--step", "2s", "--warm-up", "0", "--cooldown", "0s", "--min", "20", "--max", "40", "--start-delay", "300ms",
			"--history", db, "-o", "json", "-q", "--no-report"},
		[]string{"--controller", addr, "--insecure-no-tls"})
	if res.code != ExitOK {
		t.Fatalf("controller exit %d\n%s\n%s", res.code, res.out, res.err)
	}
	for i, c := range codes {
		if c != 0 {
			t.Errorf("worker %d exit %d", i, c)
		}
	}
	var doc run.CapacityDoc
	if err := json.Unmarshal([]byte(lastLine(res.out)), &doc); err != nil {
		t.Fatalf("%v: %q", err, res.out)
	}
	rep := doc.Capacity
	if !rep.Found || rep.Answer != 40 || len(rep.Steps) != 2 {
		t.Fatalf("found %v answer %v steps %d; want 40/s after 2 steps", rep.Found, rep.Answer, len(rep.Steps))
	}
	var measured int64
	for _, st := range rep.Steps {
		measured += st.Requests
		if st.Requests == 0 || st.TargetCPUPct == nil {
			t.Errorf("step %v/s: %d requests, target CPU %v; want both measured", st.Rate, st.Requests, st.TargetCPUPct)
		}
	}
	if got, sent := stepsInHistory(t, db, doc), tg.n.Load(); got != sent || got != measured || got == 0 {
		t.Errorf("the steps in the history have %d requests, the steps measured %d; the target counted %d", got, measured, sent)
	}
	list := fuka(t, "runs", "--history", db)
	for _, want := range []string{"capacity step 20/s", "capacity step 40/s"} {
		if !strings.Contains(list.out, want) {
			t.Errorf("fuka runs does not list %q:\n%s", want, list.out)
		}
	}
}

// TestCapacityStepsInHistory: the local search stores its steps in the
// history too, and measures the target's and its own CPU over each step's
// window.
func TestCapacityStepsInHistory(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	db := filepath.Join(t.TempDir(), "history.db")
	r := runCLI(t, nil, "capacity", tg.URL+"/", "--slo", "p99 < 200ms", "--monitor", "local", "--step", "2s", "--cooldown", "0s",
		"--min", "20", "--max", "20", "--history", db, "-o", "json", "-q", "--no-report")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	var doc run.CapacityDoc
	if err := json.Unmarshal([]byte(lastLine(r.out)), &doc); err != nil {
		t.Fatalf("%v: %q", err, r.out)
	}
	st := doc.Capacity.Steps[0]
	if st.TargetCPUPct == nil || st.GenCPUPct == nil {
		t.Errorf("target CPU %v, generator CPU %v; want both", st.TargetCPUPct, st.GenCPUPct)
	}
	if got, sent := stepsInHistory(t, db, doc), tg.n.Load(); got != sent || got == 0 {
		t.Errorf("the step in the history has %d requests; the target counted %d", got, sent)
	}
}
