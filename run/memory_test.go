package run

import (
	"context"
	"io"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// TestRunMemoryPerSecond drives a whole run — collector, live progress, the
// watch of fuka's own process, the summary and results at the end — through
// hours of simulated seconds (synctest; the load is a fake that records 20
// outcomes a second) and bounds what each second keeps while the run lasts:
// the timeline's Point (~170 bytes, up to twice that while its slice
// doubles) and fuka's own CPU, memory, threads and fds as four 8-byte values
// and a 24-byte row. A day at that rate is ~30 MB, not the ~0.8 GB the
// issue measured; anything that keeps a map, a histogram or a summary per
// second breaks the bound.
func TestRunMemoryPerSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates hours of a run")
	}
	const (
		warm    = 600
		seconds = 2 * 3600
		bound   = 2*168 + 24 + 4*8 + 32 // Point ×2, own-process row, slack
	)
	synctest.Test(t, func(t *testing.T) {
		var before, after uint64
		out := Outputs{Format: "json", NoReport: true, NoHistory: true, Results: t.TempDir()}
		load := sourceFunc(func(ctx context.Context, cfg engine.Config, started func(time.Time)) (*engine.Result, error) {
			rec := metrics.NewRecorder(1)
			col := metrics.NewCollector([]string{"GET /"}, []*metrics.Recorder{rec})
			start := time.Now()
			started(start)
			for s := 1; s <= warm+seconds; s++ {
				if s == warm {
					before = heapAfterGC()
				}
				for k := range 20 {
					rec.Record(0, metrics.Outcome{Latency: time.Duration(s%500+k) * 10 * time.Microsecond, Service: time.Millisecond, Status: 200, BytesIn: 120, BytesOut: 60})
				}
				time.Sleep(time.Until(start.Add(time.Duration(s) * time.Second)))
				at := time.Duration(s) * time.Second
				cfg.OnTick(at, col.Tick(at, 4), col.Run())
			}
			after = heapAfterGC()
			return &engine.Result{Run: col.Run(), Elapsed: time.Since(start), Scheduled: int64(20 * (warm + seconds))}, nil
		})
		meta := report.Meta{Name: "soak", Target: "http://127.0.0.1:1/", Model: report.ModelOpen, Planned: (warm + seconds) * time.Second}
		if _, err := Run(t.Context(), Spec{Meta: meta, Source: load, Out: out, Stdout: io.Discard, Stderr: io.Discard, CPUs: 1}); err != nil {
			t.Fatal(err)
		}
		perSecond := float64(int64(after)-int64(before)) / seconds
		t.Logf("heap %d -> %d bytes over %d simulated s: %.0f B/s (bound %d)", before, after, seconds, perSecond, bound)
		if perSecond > bound {
			t.Errorf("a run keeps %.0f bytes per second, want <= %d", perSecond, bound)
		}
	})
}

// sourceFunc is a Source from a function: a fake load.
type sourceFunc func(ctx context.Context, cfg engine.Config, started func(time.Time)) (*engine.Result, error)

func (f sourceFunc) Load(ctx context.Context, cfg engine.Config, started func(time.Time)) (*engine.Result, error) {
	return f(ctx, cfg, started)
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
