package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// TestHistoryRoundTrip: the compact history gives back exactly the points
// recorded — gaps, series that appear late, a point with no values — and
// Summary equals Summarize of those points.
func TestHistoryRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		points []Point
	}{
		{"none", nil},
		{"one series", []Point{
			{At: 0, Values: map[string]float64{"a": 1}},
			{At: time.Second, Values: map[string]float64{"a": -2.5}},
		}},
		{"gaps and late series", []Point{
			{At: 0, Values: map[string]float64{"cpu.user_pct": 3}},
			{At: time.Second, Values: map[string]float64{}},
			{At: 2 * time.Second, Values: map[string]float64{"cpu.user_pct": 4, "net.rx_bytes_per_s": 1e9, "zero": 0}},
			{At: 3 * time.Second, Values: map[string]float64{"net.rx_bytes_per_s": 0.001}},
			{At: 4 * time.Second, Values: map[string]float64{"cpu.user_pct": -1, "zero": 0}},
		}},
		{"wider than a value block", wide(3, valBlock+7)},
		{"more points than a row block", long(rowBlock*2 + 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h history
			for _, p := range tt.points {
				h.add(p)
			}
			got := h.points()
			if len(got) != len(tt.points) {
				t.Fatalf("%d points back, want %d", len(got), len(tt.points))
			}
			for i := range got {
				if got[i].At != tt.points[i].At || !reflect.DeepEqual(got[i].Values, tt.points[i].Values) {
					t.Fatalf("point %d = %+v, want %+v", i, got[i], tt.points[i])
				}
			}
			if s, want := h.summary(), Summarize(tt.points); !reflect.DeepEqual(s, want) {
				t.Errorf("summary = %+v, want Summarize = %+v", s, want)
			}
		})
	}
}

func wide(n, width int) []Point {
	var out []Point
	for i := range n {
		vals := map[string]float64{}
		for j := range width {
			vals[fmt.Sprintf("s%d", j)] = float64(i*width + j)
		}
		out = append(out, Point{At: time.Duration(i) * time.Second, Values: vals})
	}
	return out
}

func long(n int) []Point {
	var out []Point
	for i := range n {
		out = append(out, Point{At: time.Duration(i) * time.Second, Values: map[string]float64{"a": float64(i), "b": math.Sqrt(float64(i))}})
	}
	return out
}

// TestFailureLogRoundTrip: the runs give back exactly the failures added,
// in the order tick produces them (by tick, then by sampler).
func TestFailureLogRoundTrip(t *testing.T) {
	sec := time.Second
	f := func(at int, sampler, err string) Failure {
		return Failure{At: time.Duration(at) * sec, Sampler: sampler, Err: err}
	}
	tests := []struct {
		name  string
		fails []Failure
		runs  int // runs kept
	}{
		{"none", nil, 0},
		{"down all along", []Failure{f(0, "nginx", "refused"), f(1, "nginx", "refused"), f(2, "nginx", "refused"), f(3, "nginx", "refused")}, 1},
		{"two sources interleaved", []Failure{
			f(1, "nginx", "refused"), f(1, "redis", "timed out"),
			f(2, "nginx", "refused"), f(2, "redis", "timed out"),
			f(3, "redis", "timed out"),
			f(4, "nginx", "refused"), f(4, "redis", "timed out"),
		}, 3},
		{"the error changes", []Failure{f(1, "pg", "refused"), f(2, "pg", "refused"), f(3, "pg", "auth failed"), f(4, "pg", "refused")}, 3},
		{"a skipped tick ends a run", []Failure{f(1, "pg", "refused"), f(2, "pg", "refused"), f(5, "pg", "refused"), f(6, "pg", "refused")}, 2},
		{"flapping", []Failure{f(1, "pg", "refused"), f(3, "pg", "refused"), f(5, "pg", "refused")}, 3},
		// Runs are keyed by sampler name: two samplers of one name take
		// turns extending a run, which stays right, just less compact.
		{"two samplers with one name", []Failure{
			f(1, "process", "no such process"), f(1, "process", "no such process"),
			f(2, "process", "no such process"), f(2, "process", "no such process"),
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l failureLog
			for _, f := range tt.fails {
				l.add(f, sec)
			}
			if got := l.failures(); !reflect.DeepEqual(got, tt.fails) {
				t.Errorf("failures = %v\nwant        %v", got, tt.fails)
			}
			if len(l.runs) != tt.runs {
				t.Errorf("%d runs kept, want %d", len(l.runs), tt.runs)
			}
		})
	}
}

// TestMonitorMemoryPerSecond runs a Monitor through a day of simulated
// seconds (synctest) and bounds what each second keeps: 24 bytes for the
// point, 8 per value, and nothing per failure of a source that stays down
// (its failures are one run). A map per point (~40 bytes a value) or a
// Failure a second breaks the bound.
func TestMonitorMemoryPerSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates days of ticks")
	}
	const seconds = 24 * 60 * 60
	const series = 40
	names := make([]string, series)
	for i := range names {
		names[i] = fmt.Sprintf("host.series_%02d_bytes", i)
	}
	busy := func() Sampler {
		return &fakeSampler{name: "local", calls: make([]time.Time, 0, seconds+2), fn: func(_ context.Context, call int) ([]Value, error) {
			vals := make([]Value, series)
			for i, n := range names {
				vals[i] = Value{n, float64(call + i)}
			}
			return vals, nil
		}}
	}
	down := func() Sampler {
		return &fakeSampler{name: "nginx", calls: make([]time.Time, 0, seconds+2), fn: func(context.Context, int) ([]Value, error) {
			// A fresh error each call, as a failed dial returns.
			return nil, fmt.Errorf("Get %q: %w", "http://127.0.0.1:1/status", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"))
		}}
	}
	tests := []struct {
		name     string
		samplers func() []Sampler
		bound    float64 // bytes per simulated second
		failures bool
	}{
		{"40 series", func() []Sampler { return []Sampler{busy()} }, 24 + 8*series + 16, false},
		{"a source down all day", func() []Sampler { return []Sampler{down()} }, 24 + 16, true},
		{"both", func() []Sampler { return []Sampler{busy(), down()} }, 24 + 8*series + 16, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The fake samplers keep their call times (allocated up front):
			// that is the test's memory, not the monitor's.
			samplers := tt.samplers()
			synctest.Test(t, func(t *testing.T) {
				m := New(samplers, time.Second, nil)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); m.Run(ctx, time.Now()) }()
				time.Sleep(time.Hour) // the first hour's growth is blocks being allocated
				synctest.Wait()
				before := heapAfterGC()
				time.Sleep(seconds*time.Second - time.Hour)
				synctest.Wait()
				after := heapAfterGC()
				cancel()
				<-done

				if pts := m.Points(); len(pts) < seconds-1 {
					t.Fatalf("%d points after %d s, want one a second", len(pts), seconds)
				}
				if fails := m.Failures(); tt.failures && len(fails) < seconds-1 {
					t.Fatalf("%d failures after %d s, want one a second", len(fails), seconds)
				}
				perSecond := float64(int64(after)-int64(before)) / (seconds - 3600)
				t.Logf("heap %d -> %d bytes over %d simulated s: %.0f B/s (bound %.0f)", before, after, seconds-3600, perSecond, tt.bound)
				if perSecond > tt.bound {
					t.Errorf("monitor keeps %.0f bytes per second, want <= %.0f", perSecond, tt.bound)
				}
			})
		})
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
