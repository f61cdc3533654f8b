package run

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// fakeSource is a load that sends nothing: it waits lead (workers
// joining), says its t=0 is start after that (a common start in the
// future, as a controller's), ticks each whole second of length on the
// load's clock and returns a canned result of n requests, failing ones
// when fail.
type fakeSource struct {
	lead, start, length time.Duration
	n                   int
	fail                bool
	degraded            bool // Describe marks the run degraded
	cancel              context.CancelFunc

	t0 time.Time // what it told started
}

func (f *fakeSource) Load(ctx context.Context, cfg engine.Config, started func(time.Time)) (*engine.Result, error) {
	time.Sleep(f.lead)
	f.t0 = time.Now().Add(f.start)
	started(f.t0)
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector([]string{"GET /"}, []*metrics.Recorder{rec})
	res := &engine.Result{}
	for s := time.Second; s <= f.length; s += time.Second {
		time.Sleep(time.Until(f.t0.Add(s)))
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		for range f.n {
			o := metrics.Outcome{Latency: time.Millisecond, Service: time.Millisecond, Status: 200}
			if f.fail {
				o = metrics.Outcome{Latency: time.Millisecond, Err: metrics.ErrRefused}
			}
			rec.Record(0, o)
		}
		cfg.OnTick(s, col.Tick(s, 1), col.Run())
		if f.cancel != nil && s == time.Second {
			f.cancel() // the user presses Ctrl-C after the first second
		}
	}
	if !res.Interrupted {
		time.Sleep(time.Until(f.t0.Add(f.length))) // the last, partial second
	}
	res.Run, res.Elapsed = col.Run(), time.Since(f.t0)
	return res, nil
}

// Describe is a cluster's: a lost worker makes the run degraded.
func (f *fakeSource) Describe(sum *report.Summary) { sum.Degraded = f.degraded }

// fakeJudge fails the run, and stops it at stopAt (abort_when), as told.
type fakeJudge struct {
	fail   bool
	stopAt time.Duration
}

func (j fakeJudge) Tick(elapsed time.Duration, _ metrics.Point, _ *metrics.Run) string {
	if j.stopAt > 0 && elapsed >= j.stopAt {
		return "errors held"
	}
	return ""
}

func (j fakeJudge) Judge(*report.Summary, *metrics.Run) bool { return j.fail }

// TestRunClock: the watchers run on the load's clock. The Source starts
// its load 2 s after Run called it, at a t=0 1.5 s later still; the
// monitor's samples are at whole seconds from that t=0 (0 to 3 s of a
// 3.5 s load), not from when Run started, and the summary starts there.
func TestRunClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{lead: 2 * time.Second, start: 1500 * time.Millisecond, length: 3500 * time.Millisecond, n: 10}
		o, err := Run(t.Context(), Spec{
			Source: src,
			Watch:  Watch{MonitorFlags: []string{"local"}, ProcRoot: filepath.Join("..", "monitor", "testdata", "proc1")},
			Out:    Outputs{Format: "none", Quiet: true, NoReport: true, NoHistory: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !o.Summary.Started.Equal(src.t0) {
			t.Errorf("summary started %v, want the load's t=0 %v", o.Summary.Started, src.t0)
		}
		res := o.Summary.Resources
		if res == nil || len(res.Timeline) == 0 {
			t.Fatalf("no resources timeline: %+v", res)
		}
		if n := len(o.Watched.Points()); n != len(res.Timeline) {
			t.Errorf("Outcome.Watched has %d points, the summary %d", n, len(res.Timeline))
		}
		var ts []float64
		for _, p := range res.Timeline {
			ts = append(ts, p.TS)
		}
		// The last sample is at 3 s of the load; on the Run's clock it
		// would be at 6 or 7 s.
		if last := ts[len(ts)-1]; last != 3 {
			t.Errorf("samples at %v s, want whole seconds up to 3 from the load's t=0", ts)
		}
		for _, v := range ts {
			if v != float64(int(v)) {
				t.Errorf("sample at %v s: not on a whole second of the load's clock", v)
			}
		}
	})
}

// TestRunExitCode: the outcome's exit code and history status when
// several endings apply: interrupted first, then every request failed,
// then a degraded run, then thresholds and abort_when.
func TestRunExitCode(t *testing.T) {
	tests := []struct {
		name        string
		interrupt   bool // Ctrl-C after the first second
		allFailed   bool
		degraded    bool
		thresholds  bool // a threshold failed
		abort       bool // abort_when fired
		code        int
		status      string
		interrupted bool // Summary.Interrupted
	}{
		{name: "ok", code: CodeOK, status: history.StatusCompleted},
		{name: "thresholds", thresholds: true, code: CodeFailed, status: history.StatusFailedThresholds},
		{name: "abort_when", abort: true, code: CodeFailed, status: history.StatusInterrupted, interrupted: true},
		{name: "degraded", degraded: true, code: CodeDegraded, status: history.StatusDegraded},
		{name: "degraded and thresholds", degraded: true, thresholds: true, code: CodeDegraded, status: history.StatusDegraded},
		{name: "all failed", allFailed: true, code: CodeAllFailed, status: history.StatusAllFailed},
		{name: "all failed and degraded", allFailed: true, degraded: true, thresholds: true, code: CodeAllFailed, status: history.StatusAllFailed},
		{name: "interrupted", interrupt: true, code: CodeInterrupted, status: history.StatusInterrupted, interrupted: true},
		{name: "interrupted, all failed", interrupt: true, allFailed: true, code: CodeInterrupted, status: history.StatusInterrupted, interrupted: true},
		{name: "interrupted, degraded, thresholds", interrupt: true, degraded: true, thresholds: true, code: CodeInterrupted, status: history.StatusInterrupted, interrupted: true},
		{name: "abort_when, all failed", abort: true, allFailed: true, code: CodeAllFailed, status: history.StatusAllFailed, interrupted: true},
		{name: "abort_when, degraded", abort: true, degraded: true, code: CodeDegraded, status: history.StatusDegraded, interrupted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				src := &fakeSource{length: 4 * time.Second, n: 10, fail: tt.allFailed, degraded: tt.degraded}
				if tt.interrupt {
					src.cancel = cancel
				}
				j := fakeJudge{fail: tt.thresholds}
				if tt.abort {
					j.stopAt = 2 * time.Second
				}
				var stdout, stderr bytes.Buffer
				o, err := Run(ctx, Spec{
					Source: src, Judges: []Judge{j}, Stdout: &stdout, Stderr: &stderr,
					Out: Outputs{Format: "json", Quiet: true, NoReport: true, NoHistory: true},
				})
				if err != nil {
					t.Fatal(err)
				}
				if o.Code != tt.code || o.Status != tt.status {
					t.Errorf("code %d status %q, want %d %q", o.Code, o.Status, tt.code, tt.status)
				}
				if o.Summary.Interrupted != tt.interrupted {
					t.Errorf("summary interrupted %v, want %v", o.Summary.Interrupted, tt.interrupted)
				}
				aborted := strings.Contains(stderr.String(), "fuka: run aborted early: errors held\n")
				if aborted != tt.abort || (tt.abort && o.Summary.EndReason != report.EndAbortWhen) {
					t.Errorf("abort_when: end %q, stderr %q", o.Summary.EndReason, stderr.String())
				}
				// An interrupted run is not judged by its failures: they may be
				// the few requests it had time for.
				warned := false
				for _, w := range o.Summary.Warnings {
					warned = warned || strings.HasPrefix(w, "every request failed: connection refused (")
				}
				if warned != (tt.code == CodeAllFailed) {
					t.Errorf("warnings %q", o.Summary.Warnings)
				}
				if said := strings.Contains(stderr.String(), "fuka: every request failed"); said != (tt.code == CodeAllFailed) {
					t.Errorf("stderr %q: want the all-failed line with -o json only when that is the exit code", stderr.String())
				}
				if !strings.HasPrefix(stdout.String(), "{") {
					t.Errorf("stdout %q, want the JSON summary", stdout.String())
				}
			})
		})
	}
}

// TestRunHistory: a run is stored with its status, and the run that
// creates the history says where, once.
func TestRunHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h", "history.db")
	for i, want := range []string{history.StatusFailedThresholds, history.StatusCompleted} {
		synctest.Test(t, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := Run(t.Context(), Spec{
				Source: &fakeSource{length: time.Second, n: 5}, Judges: []Judge{fakeJudge{fail: i == 0}}, Stderr: &stderr,
				Out: Outputs{Format: "none", NoReport: true, History: path, Quiet: false},
			})
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != want {
				t.Errorf("run %d: status %q, want %q", i+1, o.Status, want)
			}
			said := strings.Contains(stderr.String(), "run history started")
			if said != (i == 0) || (said && !strings.Contains(stderr.String(), "fuka: run history started at "+path+" (")) {
				t.Errorf("run %d: stderr %q", i+1, stderr.String())
			}
		})
	}
	s, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.List(10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Status != history.StatusCompleted || runs[1].Status != history.StatusFailedThresholds {
		t.Errorf("stored %+v", runs)
	}
}
